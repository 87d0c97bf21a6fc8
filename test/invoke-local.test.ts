// The manual's promise (docs/emulator.md): with the variables `npm run emulator` prints, `sls invoke
// local` runs the functions (bundled from src/ by the packaging plugin) against the emulator exactly
// as they would run against AWS. This test runs the manual's own lines: the `curl` and `npx sls`
// commands of its "Against the emulator" block, as written there, with only the port changed to this
// emulator's.
import { exec } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_SCHEDULE_GROUP, environmentLines, prepareDevStage } from '../scripts/emulator/main.ts';
import { type RunningEmulator, startEmulator } from '../scripts/emulator/server.ts';
import { slsEnv } from './support/global-setup.ts';

const run = promisify(exec);

let emulator: RunningEmulator;

/** The commands of docs/emulator.md's code block under "Against the emulator", continuation lines joined. */
function manualCommands(): string[] {
  const page = readFileSync('docs/emulator.md', 'utf8');
  const section = page.slice(page.indexOf('## Against the emulator'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function manualCommand(prefix: string): string {
  const command = manualCommands().find((line) => line.startsWith(prefix));
  if (!command) throw new Error(`docs/emulator.md's emulator block has no line starting with '${prefix}'`);
  return command;
}

/** The variables the emulator prints (and docs/emulator.md exports), pointing at this emulator. */
function emulatorEnv(): NodeJS.ProcessEnv {
  const printed = Object.fromEntries(
    environmentLines(emulator.url).map((line) => line.split('=', 2) as [string, string]),
  );
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _quiet, ...inherited } = slsEnv();
  return { ...inherited, ...printed, PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}` };
}

async function runManualLine(prefix: string) {
  const command = manualCommand(prefix).replaceAll(':4566', `:${emulator.port}`);
  const child = run(command, { cwd: inject('serviceDir'), env: emulatorEnv(), timeout: 90_000 });
  // Without --data, invoke local reads the event from standard input: give it an empty one.
  child.child.stdin?.end();
  const { stdout, stderr } = await child;
  // Quiet on the local Node too (Lambda runs 22): no SDK NodeVersionSupportWarning.
  expect(stderr).not.toContain('NodeVersionSupportWarning');
  // The function's log lines (one JSON object each) come first; the handler's result is printed
  // last, indented, from a line holding only '{' (the CLI prints its result on one line: '{"name"...').
  const lines = stdout.trimEnd().split('\n');
  const start = lines.lastIndexOf('{');
  return JSON.parse(lines.slice(start === -1 ? lines.length - 1 : start).join('\n')) as Record<
    string,
    unknown
  >;
}

beforeAll(async () => {
  emulator = await startEmulator();
  await prepareDevStage(emulator);
  await runManualLine('curl ');
}, 90_000);

afterAll(async () => {
  await emulator.close();
});

describe('docs/emulator.md, run against the emulator', () => {
  it('documents every variable the emulator prints', () => {
    const exported = manualCommand('export ');
    for (const line of environmentLines('http://127.0.0.1:4566')) expect(exported).toContain(line);
  });

  it('fills the emulator with the synthetic account its curl line asks for', () => {
    expect(emulator.services.scheduler.count()).toBe(500);
  });

  it('runs a dry-run sweep that looks at every schedule and deletes nothing', async () => {
    const before = emulator.services.scheduler.count();

    const result = await runManualLine('npx sls invoke local -f sweep');

    expect(result).toMatchObject({
      status: 'finished',
      dryRun: true,
      scanned: 500,
      deleted: 0,
      complete: true,
    });
    expect(result.wouldDelete).toBeGreaterThan(0);
    expect(emulator.services.scheduler.count()).toBe(before);
    // Only the fields docs/sweep.md documents: no internal bookkeeping ("progress" of groups).
    const manual = readFileSync('docs/sweep.md', 'utf8');
    const documented = manual.slice(manual.indexOf('The function returns a JSON summary'));
    const paragraph = documented.slice(0, documented.indexOf('\n\n'));
    for (const key of Object.keys(result)) expect(paragraph, key).toMatch(new RegExp(`\`${key}[\`.]`));
    expect(result).not.toHaveProperty('progress');
  }, 120_000);

  it('runs the census against the emulated Scheduler and Service Quotas', async () => {
    const result = await runManualLine('npx sls invoke local -f census');

    expect(result).toMatchObject({ total: emulator.services.scheduler.count() });
    expect(result.quota).toMatchObject({ source: 'applied' });
  }, 120_000);

  it('creates a self-deleting schedule in the stack group with the create function', async () => {
    const result = await runManualLine('npx sls invoke local -f create');

    expect(result).toMatchObject({ groupName: DEFAULT_SCHEDULE_GROUP });
    expect(emulator.services.scheduler.get(DEFAULT_SCHEDULE_GROUP, String(result.name))).toMatchObject({
      ActionAfterCompletion: 'DELETE',
      ScheduleExpression: 'at(2030-01-01T09:00:00)',
    });
  }, 120_000);

  it('creates a schedule with the CLI, without --group', async () => {
    const result = await runManualLine('npm run create-schedule');

    expect(result).toMatchObject({ groupName: DEFAULT_SCHEDULE_GROUP });
  }, 120_000);

  /** Runs a manual line that must fail: how it failed, and how long it took (60 s at most, then killed). */
  async function runExpectingFailure(command: string) {
    const started = Date.now();
    const child = run(command, { cwd: inject('serviceDir'), env: emulatorEnv(), timeout: 60_000 });
    child.child.stdin?.end();
    const failure = (await child.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code?: number; killed?: boolean; stdout?: string; stderr?: string } | undefined;
    return { failure, seconds: (Date.now() - started) / 1000 };
  }

  it.each([
    ['sweep', 'SWEEP_GROUPS=,', 'SWEEP_GROUPS'],
    ['sweep', 'SWEEP_GRACE_MINUTES=1e3', 'SWEEP_GRACE_MINUTES'],
    ['census', 'CENSUS_GROUPS=,', 'CENSUS_GROUPS'],
    ['create', "'CREATE_SCHEDULE_GROUP=not a group'", 'CREATE_SCHEDULE_GROUP'],
  ])(
    'exits promptly and non-zero when %s has a configuration error (%s)',
    async (fn, variable, named) => {
      // The manual's invoke line for the function, with one variable set wrong.
      const line = manualCommand(`npx sls invoke local -f ${fn}`).replaceAll(':4566', `:${emulator.port}`);
      const command = line.replace(`-f ${fn}`, `-f ${fn} -e ${variable}`);
      const { failure, seconds } = await runExpectingFailure(command);

      expect(failure?.killed).toBe(false);
      expect(failure?.code).not.toBe(0);
      expect(`${failure?.stdout}${failure?.stderr}`).toContain(`Expected ${named} to be`);
      // Well under the 60 s timeout: a handle left open would keep the process until it is killed.
      expect(seconds).toBeLessThan(45);
    },
    120_000,
  );

  it('exits promptly and non-zero when a sweep that deletes is refused outside Lambda (SWEEP_TOMBSTONE_MAC_KEY)', async () => {
    // The manual's sweep line, deleting: outside Lambda the MAC key's alias names no account, so the
    // handler refuses before any AWS call, and no timer of its may keep the process alive after.
    const line = manualCommand('npx sls invoke local -f sweep').replaceAll(':4566', `:${emulator.port}`);
    const command = line.replace(`'{"dryRun":true}'`, `'{"dryRun":false}'`);
    const { failure, seconds } = await runExpectingFailure(command);

    expect(command).toContain(`'{"dryRun":false}'`);
    expect(failure?.killed).toBe(false);
    expect(failure?.code).not.toBe(0);
    expect(`${failure?.stdout}${failure?.stderr}`).toContain('Invalid SWEEP_TOMBSTONE_MAC_KEY');
    expect(seconds).toBeLessThan(45);
  }, 120_000);
});
