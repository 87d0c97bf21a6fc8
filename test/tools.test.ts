// Every tool behaves alike, run as a user runs it (the command of its npm script, as a process):
// --help prints its usage on stdout and exits 0; an unknown option or a bad value exits 2 with one
// line on stderr naming the option; any other failure exits 1 with one line, its stack only with DEBUG.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPTS = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
  .scripts;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns `npm run <tool> -- ...args` without npm: the script's own tsx command line. */
function runTool(tool: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const [command, ...scriptArgs] = (SCRIPTS[tool] ?? '').split(' ');
  expect(command, `npm script ${tool}`).toBe('tsx');
  return new Promise((done) => {
    execFile(
      'node_modules/.bin/tsx',
      [...scriptArgs, ...args],
      {
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: unknown }).code as number | null) : 0;
        done({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** Each tool, an unknown option, and a bad value with the option its one line must name. */
const TOOLS: { tool: string; unknown: string[]; bad: string[]; named: string; oneLine?: false }[] = [
  { tool: 'demo', unknown: ['--nope'], bad: ['--schedules', '0'], named: '--schedules' },
  { tool: 'emulator', unknown: ['--nope'], bad: ['--port', '1e3'], named: '--port' },
  { tool: 'bench', unknown: ['--nope'], bad: ['--schedules', '2e3'], named: '--schedules' },
  {
    tool: 'create-schedule',
    unknown: ['--nope'],
    bad: ['--run-at', '2099-12-01T09:00:00Z', '--target', 'arn', '--input', '{not json'],
    named: '--input',
  },
  { tool: 'soak', unknown: ['--nope'], bad: ['--seeds', '0'], named: '--seeds' },
  { tool: 'stackset', unknown: ['deploy', '--nope'], bad: ['deploy', '--ou', 'bad'], named: '--ou' },
  {
    tool: 'report',
    unknown: ['--nope'],
    bad: ['--accounts', '123', '--regions', 'us-east-1', '--role', 'reader'],
    named: '--accounts',
  },
  { tool: 'guard', unknown: ['--nope'], bad: ['no-such-template.json'], named: 'template' },
  { tool: 'restore', unknown: ['--nope'], bad: ['--from', '2026-02-30T10:00:00Z'], named: '--from' },
];

const STACK_LINE = /^\s+at /m;

describe('every tool', () => {
  const runs = new Map<string, Run>();

  beforeAll(async () => {
    // Prepare: every run at once, a few processes at a time.
    const limit = pLimit(4);
    await Promise.all(
      TOOLS.flatMap(({ tool, unknown, bad }) =>
        Object.entries({ help: ['--help'], unknown, bad }).map(([kind, args]) =>
          limit(async () => runs.set(`${tool} ${kind}`, await runTool(tool, args))),
        ),
      ),
    );
  }, 240_000);

  it('lists every npm script that runs a tool', () => {
    const tools = Object.entries(SCRIPTS)
      .filter(([, command]) => command.startsWith('tsx '))
      .map(([name]) => name);
    expect(tools.sort()).toEqual(TOOLS.map(({ tool }) => tool).sort());
  });

  it.each(TOOLS)('$tool --help prints its usage on stdout and exits 0', ({ tool }) => {
    const run = runs.get(`${tool} help`)!;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Usage:/m);
    expect(run.stdout).toContain(`npm run ${tool}`);
    expect(run.stderr).toBe('');
  });

  it.each(TOOLS)(
    '$tool refuses an unknown option with exit 2 and one line naming it',
    ({ tool, unknown, oneLine }) => {
      const run = runs.get(`${tool} unknown`)!;
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      if (oneLine !== false) expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(unknown.at(-1));
      expect(run.stderr).not.toMatch(STACK_LINE);
    },
  );

  it.each(TOOLS)(
    '$tool refuses a bad value with exit 2 and one line naming the option and its form',
    ({ tool, named, oneLine }) => {
      const run = runs.get(`${tool} bad`)!;
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      if (oneLine !== false) expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(named);
      expect(lines[0]).toMatch(/expected /);
      expect(run.stderr).not.toMatch(STACK_LINE);
    },
  );
});

describe('a tool that fails for any other reason', () => {
  let taken: Server;
  let port: number;

  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((listening) => taken.listen(0, '127.0.0.1', listening));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((closed) => taken.close(() => closed())));

  it('exits 1 with one line saying what failed, and shows the stack only with DEBUG set', async () => {
    // Act: the emulator on a port another process holds.
    const [plain, debug] = await Promise.all([
      runTool('emulator', ['--port', String(port)]),
      runTool('emulator', ['--port', String(port)], { DEBUG: '1' }),
    ]);

    // Assess
    expect(plain.code, plain.stderr).toBe(1);
    expect(plain.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^error: .*EADDRINUSE/)]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^error: .*EADDRINUSE/);
    expect(debug.stderr).toMatch(STACK_LINE);
  }, 90_000);
});
