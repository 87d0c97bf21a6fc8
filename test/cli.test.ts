// Every script reads its command line one way (scripts/cli.ts on node:util parseArgs): an unknown
// option is an error naming it, and numbers are read only in plain decimal digits.
import { describe, expect, it } from 'vitest';
import { parseBenchArguments } from '../scripts/bench/options.ts';
import {
  failureLines,
  parseCommandLine,
  readDecimal,
  readWholeNumber,
  UnknownArgumentError,
  usageErrorLine,
} from '../scripts/cli.ts';
import { parseArguments as parseEmulatorArguments } from '../scripts/emulator/main.ts';
import { parseRestoreArguments, main as restoreMain } from '../scripts/restore.ts';
import { InputError } from '../src/errors.ts';

describe('command lines', () => {
  it.each([
    ['an unknown option', ['--dry-run'], /^Unknown argument '--dry-run'; expected one of --port, --verbose$/],
    ['a prefix of an option', ['--po', '1'], /^Unknown argument '--po'/],
    ['a positional argument', ['5'], /^Unknown argument '5'/],
    ['an option without its value', ['--port'], /^Invalid --port: expected a value after it$/],
    [
      'a value that reads as an option',
      ['--port', '-5'],
      /^Invalid --port: expected a value after it \('-5' reads as an option: write --port=-5\)$/,
    ],
    ['an option followed by another', ['--port', '--verbose'], /^Invalid --port: expected a value after it$/],
    [
      'a value given to a switch',
      ['--verbose=yes'],
      /^Invalid --verbose: expected no value \(it is a switch\)$/,
    ],
  ])('refuses %s, naming it', (_label, argv, message) => {
    const parse = () => parseCommandLine(argv, { port: { type: 'string' }, verbose: { type: 'boolean' } });

    expect(parse).toThrow(InputError);
    expect(parse).toThrow(message);
  });

  it('reads --name value, --name=value and switches', () => {
    const options = { port: { type: 'string' }, verbose: { type: 'boolean' } } as const;

    expect(parseCommandLine(['--port', '4566', '--verbose'], options)).toEqual({
      port: '4566',
      verbose: true,
    });
    expect(parseCommandLine(['--port=0'], options)).toEqual({ port: '0' });
  });

  it.each(['1e3', '0x10', ' 5', '5 ', '5.0', '+5', '1_000', '05', '-1', ''])(
    'refuses the whole number %j written in another notation',
    (text) => {
      expect(() => readWholeNumber('--port', text, 0, 65_535)).toThrow(
        /^Invalid --port: expected a whole number from 0 to 65535/,
      );
    },
  );

  it.each(['1e3', '0x10', ' 2.5', '+2.5', '.5', '2.', '1_000.5'])(
    'refuses the number %j written in another notation',
    (text) => {
      expect(() => readDecimal('--get-tps', text, 1, 100_000)).toThrow(
        /^Invalid --get-tps: expected a number from 1 to 100000/,
      );
    },
  );

  it('reads plain decimals, fractions included where a number may have one', () => {
    expect(readWholeNumber('--port', '0', 0, 65_535)).toBe(0);
    expect(readDecimal('--get-tps', '2.5', 1, 100_000)).toBe(2.5);
  });

  it('keeps the message short for a huge unknown argument', () => {
    const error = (() => {
      try {
        parseCommandLine([`--${'x'.repeat(100_000)}`], { port: { type: 'string' } });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a refusal');
    })();

    expect(error).toBeInstanceOf(UnknownArgumentError);
    expect(error.message.length).toBeLessThan(200);
  });

  it('reads the emulator, bench and demo-style options through it', () => {
    expect(
      parseEmulatorArguments(['--port', '4570', '--table', 'table-a', '--table', 'table-b']),
    ).toMatchObject({
      port: 4570,
      tables: ['schedule-hygiene-dev-state', 'table-a', 'table-b'],
    });
    expect(() => parseEmulatorArguments(['--port', '1e3'])).toThrow(
      /^Invalid --port: expected a whole number/,
    );
    expect(parseBenchArguments(['--schedules=2000', '--get-tps', '2.5', '--naive'])).toMatchObject({
      schedules: 2000,
      getTps: 2.5,
      mode: 'naive',
    });
    expect(() => parseBenchArguments(['--schedules', '2e3'])).toThrow(
      /^Invalid --schedules: expected a whole number/,
    );
    expect(() => parseBenchArguments(['--seed', '0x10'])).toThrow(/^Invalid --seed/);
  });

  it.each([
    ['a string option', ['--port', '4566', '--port', '4567']],
    ['a string option, once with =', ['--port=4566', '--port', '4566']],
    ['a switch', ['--verbose', '--verbose']],
  ])('refuses %s given twice instead of keeping the last', (_label, argv) => {
    const parse = () => parseCommandLine(argv, { port: { type: 'string' }, verbose: { type: 'boolean' } });

    expect(parse).toThrow(InputError);
    expect(parse).toThrow(/^Invalid --(port|verbose): expected at most once \(it was given twice\)$/);
  });

  it('still reads an option declared multiple as often as it is given', () => {
    expect(
      parseCommandLine(['--table', 'a', '--table', 'b'], { table: { type: 'string', multiple: true } }),
    ).toEqual({
      table: ['a', 'b'],
    });
  });

  it('refuses duplicated flags in the restore and bench command lines', () => {
    expect(() => parseRestoreArguments(['--group', 'billing', '--group', 'orders'], {})).toThrow(
      /^Invalid --group: expected at most once/,
    );
    expect(() => parseBenchArguments(['--schedules', '5', '--schedules', '50000'])).toThrow(
      /^Invalid --schedules: expected at most once/,
    );
  });
});

describe('the emulator command line', () => {
  it.each([
    [
      'an empty --host (every interface, not the loopback)',
      ['--host', ''],
      /^Invalid --host: expected a host name/,
    ],
    ['a blank --host', ['--host', ' '], /^Invalid --host/],
    ['an empty --table', ['--table', ''], /^Invalid --table: expected a DynamoDB table name/],
    ['an empty --group', ['--group', ''], /^Invalid --group: expected a schedule group name/],
  ])('refuses %s', (_label, argv, message) => {
    expect(() => parseEmulatorArguments(argv)).toThrow(message);
  });

  it('listens on the loopback unless told otherwise', () => {
    expect(parseEmulatorArguments([])).toMatchObject({ host: '127.0.0.1' });
    expect(parseEmulatorArguments(['--host', '0.0.0.0'])).toMatchObject({ host: '0.0.0.0' });
  });
});

describe('the restore command line', () => {
  const MAC_KEY = 'arn:aws:kms:us-east-1:123456789012:key/0b1f7d2e-3c4a-4e5f-8a9b-0c1d2e3f4a5b';
  const withKey = { SWEEP_TOMBSTONE_MAC_KEY: MAC_KEY };

  it.each([
    ['no --mac-key and no SWEEP_TOMBSTONE_MAC_KEY', [], {}],
    ['a key id instead of its ARN', ['--mac-key', '0b1f7d2e-3c4a-4e5f-8a9b-0c1d2e3f4a5b'], {}],
    ['an alias', ['--mac-key', 'alias/tombstones'], {}],
    ['a malformed SWEEP_TOMBSTONE_MAC_KEY', [], { SWEEP_TOMBSTONE_MAC_KEY: 'arn:aws:kms:us-east-1:1:key/x' }],
  ])('refuses %s with exit 2 naming --mac-key, before any AWS call', async (_label, extra, env) => {
    const stderr: string[] = [];
    const code = await restoreMain(['--group', 'billing', ...extra], {
      env,
      stdout: () => {},
      stderr: (text) => stderr.push(text),
    });
    expect(code).toBe(2);
    expect(stderr.join('\n')).toMatch(
      /^error: Invalid --mac-key: expected the KMS key ARN of the stack's tombstone MAC key/,
    );
  });

  it('takes the MAC key from --mac-key, else from SWEEP_TOMBSTONE_MAC_KEY', () => {
    const other = MAC_KEY.replace('123456789012', '210987654321');
    expect(parseRestoreArguments(['--group', 'billing'], withKey)).toMatchObject({ macKey: MAC_KEY });
    expect(parseRestoreArguments(['--group', 'billing', '--mac-key', other], withKey)).toMatchObject({
      macKey: other,
    });
  });

  it.each([
    ['a day February does not have', '2026-02-30T10:00:00Z'],
    ['hour 24', '2026-11-30T24:00:00Z'],
    ['minute 60', '2026-11-30T10:60:00Z'],
    ['an offset of 24 hours', '2026-11-30T10:00:00+24:00'],
    ['a space before it', ' 2026-11-30T10:00:00Z'],
    ['no offset', '2026-11-30T10:00:00'],
    ['a number', '1e3'],
  ])('refuses --from with %s instead of rolling it into another instant', (_label, value) => {
    expect(() => parseRestoreArguments(['--from', value], {})).toThrow(
      /^Invalid --from: expected an ISO 8601 instant with its offset/,
    );
  });

  it.each([
    ['alone', []],
    ['with --group', ['--group', 'billing']],
    ['with --run', ['--run', 'run-1']],
  ])(
    'refuses --to before --from (%s) with exit 2 naming --to, before any AWS call',
    async (_label, extra) => {
      const stderr: string[] = [];
      const code = await restoreMain(
        ['--from', '2026-11-30T10:00:00Z', '--to', '2026-11-01T10:00:00Z', ...extra],
        { env: {}, stdout: () => {}, stderr: (text) => stderr.push(text) },
      );
      expect(code).toBe(2);
      expect(stderr.join('\n')).toMatch(
        /^error: Invalid --to: expected an ISO 8601 instant at or after --from/,
      );
    },
  );

  it('accepts --to equal to --from (one instant)', () => {
    expect(
      parseRestoreArguments(['--from', '2026-11-30T10:00:00Z', '--to', '2026-11-30T10:00:00Z'], withKey),
    ).toMatchObject({
      query: { from: new Date('2026-11-30T10:00:00Z'), to: new Date('2026-11-30T10:00:00Z') },
    });
  });

  it("keeps --keep in the --table's own stage: the state table beside it, never the environment's or dev's", () => {
    const env = { SWEEP_STATE_TABLE: 'schedule-hygiene-dev-state', ...withKey };
    const prod = ['--table', 'schedule-hygiene-prod-tombstones', '--run', 'r1', '--apply', '--keep'];
    expect(parseRestoreArguments(prod, env)).toMatchObject({ stateTable: 'schedule-hygiene-prod-state' });
    expect(parseRestoreArguments([...prod, '--state-table', 'other-state'], env)).toMatchObject({
      stateTable: 'other-state',
    });
    expect(() =>
      parseRestoreArguments(['--table', 'custom-table', '--run', 'r1', '--apply', '--keep'], env),
    ).toThrow(/--state-table/);
    expect(parseRestoreArguments(['--run', 'r1', '--keep'], env)).toMatchObject({
      stateTable: 'schedule-hygiene-dev-state',
    });
  });

  it('reads a real instant with its offset', () => {
    expect(parseRestoreArguments(['--from', '2026-11-30T11:00:00+01:00'], withKey)).toMatchObject({
      query: { from: new Date('2026-11-30T10:00:00Z') },
    });
  });

  it.each([
    ['SWEEP_TOMBSTONE_TABLE', ' '],
    ['SWEEP_STATE_TABLE', 'no spaces'],
  ])('refuses %s=%j from the environment, naming the variable', (variable, value) => {
    expect(() => parseRestoreArguments(['--group', 'billing'], { [variable]: value })).toThrow(
      new RegExp(`^Expected ${variable} to be a DynamoDB table name`),
    );
  });

  it('reads an empty table variable as unset, as the functions do', () => {
    expect(
      parseRestoreArguments(['--group', 'billing'], { SWEEP_TOMBSTONE_TABLE: '', ...withKey }),
    ).toMatchObject({
      table: 'schedule-hygiene-dev-tombstones',
    });
  });
});

describe('the lines a tool prints when it stops', () => {
  it('gives a failure as one line with its name and code, never an echoed target input', () => {
    // Prepare: an AWS validation error that echoes a target's input across lines.
    const error = Object.assign(
      new Error('1 validation error detected: Value \'{"pw":"SECRET123"}\n\' at \'target.input\' failed'),
      { name: 'ValidationException', code: 'ValidationException' },
    );

    // Act
    const line = failureLines(error, {});

    // Assess
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/^error: ValidationException: 1 validation error detected: Value \[redacted\]/);
    expect(line).not.toContain('SECRET123');
  });

  it('names a system error by its code, and shows the stack only with DEBUG set', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4566'), {
      code: 'EADDRINUSE',
    });

    expect(failureLines(error, {})).toBe(
      'error: Error EADDRINUSE: listen EADDRINUSE: address already in use 127.0.0.1:4566',
    );
    expect(failureLines(error, { DEBUG: '0' }).split('\n')).toHaveLength(1);
    expect(failureLines(error, { DEBUG: '1' })).toMatch(/\n\s+at /);
  });

  it('points at --help only for an argument that is no option', () => {
    expect(usageErrorLine('bench', new UnknownArgumentError('--nope', 'one of --schedules'))).toBe(
      "error: Unknown argument '--nope'; expected one of --schedules (usage: npm run bench -- --help)",
    );
    expect(usageErrorLine('bench', new InputError('--schedules', 'a whole number', '0'))).toBe(
      "error: Invalid --schedules: expected a whole number, got '0'",
    );
  });
});
