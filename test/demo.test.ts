// The README's first command must stay true: the demo runs the real handlers on the embedded
// emulator and exits 0 only when the sweep deleted exactly the finished schedules.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
    // The second sweep answers every unchanged, not-yet-due schedule from memory.
    expect(stdout).toMatch(/GetSchedule calls: 0 \(the first sweep made [1-9]\d*\)/);

    // Reads correctly: the census divides by the AWS default quota, the metrics show the deletions
    // of the real sweep (points of the dry run, the real sweep and the next sweep, in that order),
    // and no number carries float noise.
    expect(stdout).toContain('schedules: 600 of a quota of 10,000,000 (applied) = 0.006%');
    const deleted = /Deleted exactly the (\d+) finished schedules/.exec(stdout)?.[1];
    expect(stdout).toMatch(new RegExp(`SchedulesDeleted\\s+0, ${deleted}, 0\\s*\n`));
    expect(stdout).not.toMatch(/\d\.\d{4,}/);

    // The README's numbered steps are the demo's.
    const steps = [...stdout.matchAll(/^=== (\d)\. /gm)].map((match) => Number(match[1]));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const readme = readFileSync('README.md', 'utf8');
    const list = readme.slice(
      readme.indexOf('The demo starts the local emulator'),
      readme.indexOf('It exits non-zero'),
    );
    expect([...list.matchAll(/^(\d)\. /gm)].map((match) => Number(match[1]))).toEqual(steps);
  }, 90_000);
});
