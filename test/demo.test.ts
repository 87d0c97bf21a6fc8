// The README's first command must stay true: the demo runs the real handlers on the embedded
// emulator and exits 0 only when the sweep deleted exactly the finished schedules.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo', () => {
  it('sweeps a small synthetic account to exactly the expected result and exits 0', async () => {
    const { stdout } = await run('node_modules/.bin/tsx', ['scripts/demo.ts', '--schedules', '600'], {
      env: { ...process.env },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/Deleted exactly the \d+ finished schedules; kept everything else\./);
    expect(stdout).toMatch(
      /schedules in hygiene-demo now: 3\n[^\n]*\n[^\n]*schedules in hygiene-demo now: 0/,
    );
    expect(stdout).toMatch(/SchedulesDeleted\s+\d+/);
    // The second sweep answers every unchanged, not-yet-due schedule from memory.
    expect(stdout).toMatch(/GetSchedule calls: 0 \(the first sweep made [1-9]\d*\)/);
  }, 90_000);
});
