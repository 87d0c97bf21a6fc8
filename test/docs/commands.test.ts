// A documented command is a promise. Every shell command in the fenced sh/bash blocks of README.md
// and docs/*.md is kept true one of three ways, and this test fails on a command that is none of them:
//   - marked as needing an AWS account: a comment `# needs an AWS account` on its line, or on a
//     comment line before it (it marks every command after it in the block, up to the next marker);
//   - marked with the test that runs it: `# run by test/<file>.test.ts` (or `run at smaller sizes
//     by ...`), and that file must exist and exercise every `--option` the command uses;
//   - covered by a test listed below (COVERED: the file must still contain what runs the command),
//     or run here, against the emulator (RUN_HERE).
import { type ChildProcess, exec, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchArguments } from '../../scripts/bench/options.ts';
import { environmentLines } from '../../scripts/emulator/main.ts';
import { type RunningEmulator, startEmulator } from '../../scripts/emulator/server.ts';
import { parseReportArguments } from '../../scripts/report.ts';
import { parseRestoreArguments } from '../../scripts/restore.ts';

const run = promisify(exec);

type Marker = { kind: 'aws' } | { kind: 'test'; file: string };

interface DocumentedCommand {
  /** The page, relative to the repository root. */
  file: string;
  /** The line its first physical line is on (1-based). */
  line: number;
  /** The command, continuation lines joined and whitespace collapsed, without its comment. */
  text: string;
  marker?: Marker;
}

const AWS_MARKER = /needs an AWS account/i;
const TEST_MARKER = /\brun\b[^#]*?\bby (test\/\S+?\.test\.ts)/i;

function markerOf(comment: string): Marker | undefined {
  if (AWS_MARKER.test(comment)) return { kind: 'aws' };
  const test = TEST_MARKER.exec(comment);
  return test?.[1] ? { kind: 'test', file: test[1] } : undefined;
}

/** Splits a shell line into its code and its comment: a `#` outside quotes, at the start or after a blank. */
function splitComment(line: string): { code: string; comment: string } {
  let quote: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const character = line[index];
    if (quote) {
      if (character === quote) quote = undefined;
    } else if (character === "'" || character === '"') {
      quote = character;
    } else if (character === '#' && (index === 0 || /\s/.test(line[index - 1] ?? ''))) {
      return { code: line.slice(0, index), comment: line.slice(index) };
    }
  }
  return { code: line, comment: '' };
}

/** Splits `a && b` outside quotes: each side is a command of its own. */
function splitAnd(code: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let index = 0; index < code.length; index++) {
    const character = code[index];
    if (quote) {
      if (character === quote) quote = undefined;
    } else if (character === "'" || character === '"') {
      quote = character;
    } else if (code.startsWith('&&', index)) {
      parts.push(code.slice(start, index));
      start = index + 2;
    }
  }
  parts.push(code.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** The words of a command as the shell would pass them (quotes removed; no expansion). */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const character of command) {
    if (quote) {
      if (character === quote) quote = undefined;
      else word = (word ?? '') + character;
    } else if (character === "'" || character === '"') {
      quote = character;
      word ??= '';
    } else if (/\s/.test(character)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + character;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** A command's arguments up to its first redirection (`>`, `>>`, `2>`; the file joined or apart). */
function beforeRedirection(words: string[]): string[] {
  const at = words.findIndex((word) => /^\d*>/.test(word));
  return at >= 0 ? words.slice(0, at) : words;
}

/** Every command of the fenced sh/bash/shell blocks of one Markdown page. */
function commandsOf(file: string, markdown: string): DocumentedCommand[] {
  const commands: DocumentedCommand[] = [];
  const lines = markdown.split('\n');
  let index = 0;
  while (index < lines.length) {
    const open = /^(\s*)```(sh|bash|shell)\s*$/.exec(lines[index] ?? '');
    index++;
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    let marker: Marker | undefined;
    while (index < lines.length && !/^\s*```\s*$/.test(lines[index] ?? '')) {
      const first = index;
      let logical = (lines[index] ?? '').slice(indent);
      index++;
      while (/\\\s*$/.test(logical) && index < lines.length && !/^\s*```\s*$/.test(lines[index] ?? '')) {
        logical = `${logical.replace(/\\\s*$/, '')} ${(lines[index] ?? '').trim()}`;
        index++;
      }
      const { code, comment } = splitComment(logical);
      if (code.trim() === '') {
        marker = markerOf(comment) ?? marker;
        continue;
      }
      const own = markerOf(comment);
      for (const part of splitAnd(code)) {
        commands.push({
          file,
          line: first + 1,
          text: part.replace(/\s+/g, ' '),
          ...((own ?? marker) ? { marker: own ?? marker } : {}),
        });
      }
    }
    index++;
  }
  return commands;
}

const PAGES = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const COMMANDS = PAGES.flatMap((file) => commandsOf(file, readFileSync(file, 'utf8')));

/**
 * Commands another test (or CI) runs. `command` matches a documented command that starts with it;
 * `by` is the file that runs it, and must contain every string of `evidence` (by default the
 * command itself): what it runs, or how it finds the documented line.
 */
interface Covered {
  command: string;
  by: string;
  evidence?: readonly string[];
}

const COVERED: readonly Covered[] = [
  { command: 'npm ci', by: '.ci/run' },
  { command: 'npm test', by: '.ci/run' },
  { command: 'npx sls package', by: '.ci/run' },
  // The demo test runs the script `npm run demo` runs (package.json: scripts/demo.ts), smaller.
  { command: 'npm run demo', by: 'test/demo.test.ts', evidence: ['scripts/demo.ts'] },
  // Every tool's --help, run as its npm script runs it.
  ...['demo', 'emulator', 'create-schedule', 'restore', 'report', 'stackset', 'bench', 'soak', 'guard'].map(
    (tool) => ({
      command: `npm run ${tool} -- --help`,
      by: 'test/tools.test.ts',
      evidence: [`tool: '${tool}'`, "help: ['--help']"],
    }),
  ),
  // invoke-local runs docs/emulator.md's own lines, found by these prefixes.
  ...[
    'export ',
    'curl ',
    'npx sls invoke local -f sweep',
    'npx sls invoke local -f census',
    'npx sls invoke local -f create',
    'npm run create-schedule',
  ].map((prefix) => ({
    command: prefix === 'curl ' ? 'curl -s -XPOST localhost:4566/_emulator/scheduler/synthesize' : prefix,
    by: 'test/invoke-local.test.ts',
    evidence: ['docs/emulator.md', `'${prefix}`],
  })),
];

/** Commands this file runs itself, against the emulator. */
const RUN_HERE = [
  'npm run emulator -- --port 4566',
  'curl -s -XPOST localhost:4566/_emulator/cloudformation/organization',
  'curl -s -XPOST localhost:4566/_emulator/cloudformation/failInstance',
] as const;

function coveredBy(command: DocumentedCommand): Covered | undefined {
  return COVERED.find((entry) => command.text.startsWith(entry.command));
}

function where(command: DocumentedCommand): string {
  return `${command.file}:${command.line}: ${command.text}`;
}

/** The one documented command that starts with `prefix` (every copy of it must be the same). */
function documented(prefix: string): string {
  const texts = new Set(COMMANDS.filter((command) => command.text.startsWith(prefix)).map((c) => c.text));
  expect([...texts], `documented commands starting with '${prefix}'`).toHaveLength(1);
  return [...texts][0] as string;
}

describe('documented commands', () => {
  it('finds the commands of every fenced shell block in README.md and docs/', () => {
    expect(PAGES).toContain('docs/emulator.md');
    expect(COMMANDS.filter((command) => command.file === 'README.md').length).toBeGreaterThanOrEqual(5);
    expect(COMMANDS.filter((command) => command.file === 'docs/emulator.md').length).toBeGreaterThanOrEqual(
      7,
    );
    // Quoted '#' and '&&' stay part of the command; a trailing comment does not.
    expect(commandsOf('x.md', "```sh\nnpm run restore -- --key 'g#a#5|b'   # one\n```\n")[0]?.text).toBe(
      "npm run restore -- --key 'g#a#5|b'",
    );
    expect(commandsOf('x.md', '```sh\nnpm ci && npm run demo\n```\n').map((c) => c.text)).toEqual([
      'npm ci',
      'npm run demo',
    ]);
  });

  it('are each marked as needing an AWS account, marked with their test, covered by a test, or run here', () => {
    const loose = COMMANDS.filter(
      (command) =>
        !command.marker && !coveredBy(command) && !RUN_HERE.some((prefix) => command.text.startsWith(prefix)),
    );
    expect(
      loose.map(where),
      'mark each with "# needs an AWS account" or "# run by test/....test.ts", or cover it in test/docs/commands.test.ts',
    ).toEqual([]);
  });

  it('are run by the tests that cover them: each still contains what runs the command', () => {
    for (const entry of COVERED) {
      expect(existsSync(entry.by), entry.by).toBe(true);
      const source = readFileSync(entry.by, 'utf8');
      for (const evidence of entry.evidence ?? [entry.command]) {
        expect(source.includes(evidence), `${entry.by} should contain ${evidence}`).toBe(true);
      }
      expect(
        COMMANDS.some((command) => command.text.startsWith(entry.command)),
        `no documented command starts with '${entry.command}' any more: remove it from COVERED`,
      ).toBe(true);
    }
    for (const prefix of RUN_HERE)
      expect(COMMANDS.some((command) => command.text.startsWith(prefix))).toBe(true);
  });

  it('are run by the tests their marker names: the file exists and uses every option of the command', () => {
    const marked = COMMANDS.filter((command) => command.marker?.kind === 'test');
    expect(marked.length).toBeGreaterThan(0);
    for (const command of marked) {
      const file = (command.marker as { file: string }).file;
      expect(existsSync(file), `${where(command)}: ${file} does not exist`).toBe(true);
      const source = readFileSync(file, 'utf8');
      // The command's own options: for `npm run <script> -- ...`, those after `--` (before it, npm's).
      const separator = command.text.indexOf(' -- ');
      const own = separator >= 0 ? command.text.slice(separator) : command.text;
      for (const option of own.match(/(?<=\s)--[a-z][\w-]*/g) ?? []) {
        expect(source.includes(`'${option}'`), `${where(command)}: ${file} never uses ${option}`).toBe(true);
      }
    }
  });

  it('name only scripts package.json defines (npm run <script>)', () => {
    const scripts = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).scripts as object);
    for (const command of COMMANDS) {
      const script = /\bnpm run (?:--silent )?([\w:-]+)/.exec(command.text)?.[1];
      if (script) expect(scripts, where(command)).toContain(script);
    }
    // `npm run demo` runs the file its covering test runs.
    const demo = JSON.parse(readFileSync('package.json', 'utf8')).scripts.demo as string;
    expect(demo).toContain('scripts/demo.ts');
  });

  it('give the benchmark only options and values it accepts (the documented runs take minutes)', () => {
    const bench = COMMANDS.filter(
      (command) => command.text.startsWith('npm run bench -- ') && command.text !== 'npm run bench -- --help',
    );
    expect(bench.length).toBeGreaterThanOrEqual(6);
    for (const command of bench) {
      const argv = beforeRedirection(shellWords(command.text).slice(4));
      expect(() => parseBenchArguments(argv), where(command)).not.toThrow();
    }
  });

  it('give restore and report only options and values they accept (their runs need an account)', () => {
    const readers: Record<string, (argv: string[]) => unknown> = {
      restore: (argv) => parseRestoreArguments(argv, {}),
      // A file of account ids (--accounts accounts.txt) reads as one id.
      report: (argv) => parseReportArguments(argv, () => '111111111111\n'),
    };
    let parsed = 0;
    for (const command of COMMANDS) {
      const words = shellWords(command.text);
      const tool = words[words.indexOf('run') + 1 + (words.includes('--silent') ? 1 : 0)];
      const read = words[0] === 'npm' && tool ? readers[tool] : undefined;
      if (!read) continue;
      const after = words.slice(words.indexOf('--') + 1);
      const argv = beforeRedirection(after);
      expect(() => read(argv), where(command)).not.toThrow();
      parsed++;
    }
    expect(parsed).toBeGreaterThanOrEqual(8);
  });
});

describe('documented commands, run here against the emulator', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator();
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('npm run emulator -- --port 4566 starts the emulator and prints the variables the manual exports', async () => {
    // Port 0: the system picks a free one (4566 may be in use); the emulator prints the one it got.
    const command = documented('npm run emulator -- --port 4566').replace('--port 4566', '--port 0');
    const child: ChildProcess = spawn(command, {
      shell: true,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const started = Date.now();
      while (!/Controls: POST/.test(output) && Date.now() - started < 20_000 && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const url = /Emulator listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      expect(output).toContain('Schedule groups: default, schedule-hygiene-dev');
      expect(output).toMatch(
        /Tombstone MAC key: arn:aws:kms:us-east-1:123456789012:key\/\S+ \(alias\/schedule-hygiene-dev-tombstone-mac\)/,
      );
      const port = new URL(url as string).port;
      const exported = documented('export ');
      for (const line of environmentLines(url as string)) {
        expect(output).toContain(`export ${line}`);
        expect(exported).toContain(line.replaceAll(`:${port}`, ':4566'));
      }
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
  }, 90_000);

  it('the organization curl lines seed the emulated organization and fail one instance', async () => {
    const port = `localhost:${emulator.port}/`;
    const organization = documented('curl -s -XPOST localhost:4566/_emulator/cloudformation/organization');
    const failInstance = documented('curl -s -XPOST localhost:4566/_emulator/cloudformation/failInstance');

    const seeded = await run(organization.replace('localhost:4566/', port));
    const failed = await run(failInstance.replace('localhost:4566/', port));

    expect(JSON.parse(seeded.stdout)).toMatchObject({
      units: { 'ou-ab12-11111111': ['111111111111', '222222222222'] },
    });
    expect(JSON.stringify(JSON.parse(failed.stdout).failures)).toMatch(
      /222222222222.*eu-west-1.*AccessDenied/,
    );
  });
});
