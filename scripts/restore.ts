// Operator CLI: find tombstones and recreate the schedules they hold (src/tombstone/restore.ts), in
// two steps. The dry run (the default) prints the plan: one line per tombstone and the plan's digest.
// `--apply --plan <digest>` creates exactly that plan, or refuses (exit 2, nothing created) when the
// plan is no longer the same. Run it as the stack's RestoreRole (the only principal that may read
// tombstones and verify their proofs of origin), with the stack's tombstone MAC key (output TombstoneMacKeyArn)
// in --mac-key or SWEEP_TOMBSTONE_MAC_KEY:
//   npm run restore -- --group billing --prefix order- [--from 2026-11-30T00:00:00Z]
//   npm run restore -- --group billing --prefix order- --apply --plan <digest the dry run printed>
//   npm run restore -- --run <sweep run id> --keep      (then the same with --apply --plan <digest>)
// One line per tombstone on stdout (never a target's input), the digest and a summary last. Exit 0 when
// everything asked for was restored (or would be), 1 when anything failed, needs a choice, exists
// again, was not in the plan or does not verify, 2 for a usage error or a changed plan (nothing is created).

import { pathToFileURL } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SingleBar } from 'cli-progress';
import { createDynamoDbClient, createKmsClient, createSchedulerClient } from '../src/aws/clients.ts';
import { readTableName } from '../src/config.ts';
import { clip, InputError } from '../src/errors.ts';
import { NAME_FORM, NAME_PATTERN } from '../src/schedule/name.ts';
import { MAC_KEY_ARN } from '../src/tombstone/origin.ts';
import type { TombstoneQuery } from '../src/tombstone/query.ts';
import {
  applyRestore,
  checkRestoreOptions,
  planRestore,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreResult,
  type RestoreSummary,
} from '../src/tombstone/restore.ts';
import { parseTombstoneKey } from '../src/tombstone/store.ts';
import { parseIsoInstant } from '../src/validate.ts';
import { failureLines, oneLine, parseCommandLine } from './cli.ts';
import { humanDuration } from './human.ts';

const usage = `Usage: npm run restore -- <what> [<choices>]                         (dry run: prints the plan and its digest)
       npm run restore -- <what> [<choices>] --apply --plan <digest>   (creates exactly that plan)
  <what>: --key <tombstone key> | --group <group> [--name <name> | --prefix <text>] | --run <sweep run id> | --from <ISO instant> [--to <ISO instant>]
          (--name/--prefix, --run, --from/--to and --group combine as filters)
  --apply --plan <d> create what the dry run with the same <what> and <choices> showed; refused (exit 2,
                     nothing created) if the plan changed since
  <choices>:
  --at, --zone       a new time for one-time schedules whose time has passed
  --keep             recreate those as they were and protect them from the sweep
  --include-not-deleted  also restore tombstones whose delete removed nothing (outcomes gone, refused, notSent)
  --include-unknown  also restore tombstones whose delete may or may not have applied (unknown, pending)
  --table <name>     tombstone table (default SWEEP_TOMBSTONE_TABLE or schedule-hygiene-dev-tombstones)
  --state-table <n>  sweep state table, for --keep (default: the --table name with -state for -tombstones;
                     without --table, SWEEP_STATE_TABLE or schedule-hygiene-dev-state)
  --mac-key <arn>    the stack's tombstone MAC key ARN (output TombstoneMacKeyArn; default
                     SWEEP_TOMBSTONE_MAC_KEY): a tombstone whose proof of origin does not verify is never recreated`;

const RUN_ID = /^[0-9a-zA-Z-]{1,64}$/;
/** Misplaced pointer items told apart, at most (the warning then says "at least"). */
const MISPLACED_POINTERS_KEPT = 10_000;
const TABLE = /^[a-zA-Z0-9_.-]{3,255}$/;
/** With --apply, more than this many tombstones show a progress bar (on a terminal). */
const PROGRESS_FROM = 10;

export interface RestoreCliIo {
  env?: Record<string, string | undefined>;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Whether stderr is a terminal (the progress bar is drawn only there). */
  interactive?: boolean;
  scheduler?: SchedulerClient;
  dynamodb?: DynamoDBClient;
  kms?: KMSClient;
  clock?: () => Date;
  /** The wait after protecting (tests pass one that records it); a timer by default. */
  sleep?: (ms: number) => Promise<void>;
}

interface Parsed {
  query: TombstoneQuery;
  options: RestoreOptions;
  table: string;
  stateTable: string;
  macKey: string;
}

/** Strict parsing: unknown options, stray arguments and malformed values are errors naming the option. */
export function parseRestoreArguments(
  argv: string[],
  env: Record<string, string | undefined>,
): Parsed | 'help' {
  const values = parseCommandLine(argv, {
    key: { type: 'string' },
    group: { type: 'string' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    run: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    apply: { type: 'boolean' },
    at: { type: 'string' },
    zone: { type: 'string' },
    keep: { type: 'boolean' },
    plan: { type: 'string' },
    'include-not-deleted': { type: 'boolean' },
    'include-unknown': { type: 'boolean' },
    table: { type: 'string' },
    'state-table': { type: 'string' },
    'mac-key': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const check = (option: string, value: string | undefined, pattern: RegExp, expected: string) => {
    if (value !== undefined && !pattern.test(value)) throw new InputError(`--${option}`, expected, value);
    return value;
  };
  const instant = (option: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    // A real instant, exactly as written: 2026-02-30 is refused, not read as 2 March (which would
    // move the range), and so are spaces around it.
    const parsed = parseIsoInstant(value);
    if (!parsed) {
      throw new InputError(
        `--${option}`,
        'an ISO 8601 instant with its offset (2026-11-30T10:00:00Z)',
        value,
      );
    }
    return parsed;
  };
  const query: TombstoneQuery = {};
  if (values.key !== undefined) {
    if (!parseTombstoneKey(values.key)) {
      throw new InputError(
        '--key',
        "a tombstone key as logged ('g#<group>#<shard>|<name>#<time>': the shard its group and name hash to, the time as 2026-11-30T10:00:00.000Z)",
        values.key,
      );
    }
    query.key = values.key;
  }
  const group = check('group', values.group, NAME_PATTERN, `a schedule group name (${NAME_FORM})`);
  const name = check('name', values.name, NAME_PATTERN, `a schedule name (${NAME_FORM})`);
  const prefix = check('prefix', values.prefix, NAME_PATTERN, `a schedule name prefix (${NAME_FORM})`);
  const run = check('run', values.run, RUN_ID, 'a sweep run id (1-64 of 0-9 a-z A-Z -)');
  const from = instant('from', values.from);
  const to = instant('to', values.to);
  if (group !== undefined) query.group = group;
  if (name !== undefined) query.name = name;
  if (prefix !== undefined) query.namePrefix = prefix;
  if (run !== undefined) query.runId = run;
  if (from) query.from = from;
  if (to) query.to = to;
  if (name !== undefined && prefix !== undefined)
    throw new InputError('--prefix', 'either --name or --prefix, not both');
  if (to && !from && group === undefined && run === undefined) throw new InputError('--to', '--from as well');
  // An inverted range matches nothing: with --group or --run it would end as "no tombstone found", exit 0.
  if (from && to && to.getTime() < from.getTime()) {
    throw new InputError('--to', `an ISO 8601 instant at or after --from (${values.from})`, values.to);
  }
  if (query.key !== undefined && Object.keys(query).length > 1) {
    throw new InputError('--key', 'alone: a key names one tombstone');
  }
  if (query.key === undefined && group === undefined && run === undefined && !from) {
    throw new InputError('arguments', 'one of --key, --group, --run or --from');
  }
  if ((values.at === undefined) !== (values.zone === undefined)) {
    throw new InputError(values.at === undefined ? '--at' : '--zone', 'both --at and --zone');
  }
  const options: RestoreOptions = {
    apply: values.apply === true,
    ...(values.at !== undefined && values.zone !== undefined
      ? { at: { local: values.at, zone: values.zone } }
      : {}),
    ...(values.keep ? { keep: true } : {}),
    ...(values.plan !== undefined ? { plan: values.plan } : {}),
    ...(values['include-not-deleted'] ? { includeNotDeleted: true } : {}),
    ...(values['include-unknown'] ? { includeUnknown: true } : {}),
  };
  const givenTable = check('table', values.table, TABLE, 'a DynamoDB table name');
  const table =
    givenTable ?? readTableName(env, 'SWEEP_TOMBSTONE_TABLE') ?? 'schedule-hygiene-dev-tombstones';
  // The stack names its tables <service>-<stage>-tombstones and <service>-<stage>-state: a --table
  // given on the command line picks its own stage's state table, never another stage's by default.
  const sibling = table.endsWith('-tombstones')
    ? `${table.slice(0, -'-tombstones'.length)}-state`
    : undefined;
  const stateTable =
    check('state-table', values['state-table'], TABLE, 'a DynamoDB table name') ??
    (givenTable === undefined ? readTableName(env, 'SWEEP_STATE_TABLE') : undefined) ??
    sibling;
  if (stateTable === undefined && options.keep) {
    throw new InputError(
      '--state-table',
      'the sweep state table for --keep (the --table name does not end in -tombstones)',
    );
  }
  const keyForm =
    "the KMS key ARN of the stack's tombstone MAC key (arn:aws:kms:<region>:<account>:key/<id>: output TombstoneMacKeyArn), or its alias ARN";
  const macKey =
    check('mac-key', values['mac-key'], MAC_KEY_ARN, keyForm) ??
    check(
      'mac-key',
      env.SWEEP_TOMBSTONE_MAC_KEY || undefined,
      MAC_KEY_ARN,
      `${keyForm} in SWEEP_TOMBSTONE_MAC_KEY`,
    );
  if (macKey === undefined) throw new InputError('--mac-key', keyForm);
  return { query, options, table, stateTable: stateTable ?? '', macKey };
}

/** A value as a line shows it: bare, or JSON-quoted when it holds a space, a quote or nothing. */
const shown = (value: string | undefined) =>
  value === undefined ? '-' : /^[^\s"]+$/.test(value) ? value : JSON.stringify(value);

/**
 * One tombstone's line: its action word, group/name, then key=value fields in a fixed order
 * (outcome, apply or done, expression, zone, state, target, role, deleted, age, key, why).
 */
export function describeResult(result: RestoreResult, apply: boolean, now: Date): string {
  const deleted = new Date(result.deletedAt);
  const age = Number.isNaN(deleted.getTime())
    ? undefined
    : humanDuration(Math.max(0, now.getTime() - deleted.getTime()), 1);
  const fields: [string, string | undefined][] = [
    ['outcome', result.outcome || undefined],
    [apply ? 'done' : 'apply', result.steps.length > 0 ? result.steps.join('+') : 'nothing'],
    ['expression', result.expression],
    ['zone', result.zone],
    ['state', result.state],
    ['target', result.targetArn],
    ['role', result.roleArn],
    ['deleted', result.deletedAt || undefined],
    ['age', age],
    ['key', result.key],
    ['why', result.detail],
  ];
  const text = fields
    .filter(([name, value]) => value !== undefined || name !== 'why')
    .map(([name, value]) => `${name}=${shown(value)}`)
    .join('  ');
  return `${result.action.padEnd(15)} ${result.group}/${result.name}  ${text}`;
}

/** A phase line of --apply, on stderr. */
export function describeProgress(progress: RestoreProgress): string {
  if (progress.phase === 'waiting') {
    return `waiting ${humanDuration(progress.ms)} before creating, so that a running sweep reads the new protections first`;
  }
  return `protected ${progress.done} of ${progress.total} names in group ${clip(progress.group, 64)}`;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: RestoreCliIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((text) => process.stdout.write(`${text}\n`));
  const stderr = io.stderr ?? ((text) => process.stderr.write(`${text}\n`));
  const clock = io.clock ?? (() => new Date());
  let parsed: Parsed | 'help';
  try {
    parsed = parseRestoreArguments(argv, env);
    if (parsed !== 'help') checkRestoreOptions(parsed.options, clock());
  } catch (error) {
    // One line, as every tool's usage error; the usage is one --help away.
    stderr(`error: ${oneLine((error as Error).message)} (usage: npm run restore -- --help)`);
    return 2;
  }
  if (parsed === 'help') {
    stdout(usage);
    return 0;
  }
  // Each one once, though --apply reads the tombstones twice (to check the plan, then to create);
  // at most MISPLACED_POINTERS_KEPT of them, however many a table's writer put there.
  const misplacedPointers = new Set<string>();
  const deps = {
    onMisplacedPointer: (pointer: string) => {
      if (misplacedPointers.size < MISPLACED_POINTERS_KEPT) misplacedPointers.add(pointer);
    },
    scheduler: io.scheduler ?? createSchedulerClient(),
    dynamodb: io.dynamodb ?? createDynamoDbClient(),
    tombstoneTable: parsed.table,
    stateTable: parsed.stateTable,
    mac: { kms: io.kms ?? createKmsClient(), keyId: parsed.macKey },
    clock,
    ...(io.sleep ? { sleep: io.sleep } : {}),
  };
  const apply = parsed.options.apply;
  let summary: RestoreSummary;
  let digest: string;
  try {
    if (!apply) {
      const plan = await planRestore(deps, parsed.query, parsed.options, (result) =>
        stdout(describeResult(result, false, clock())),
      );
      summary = plan.summary;
      digest = plan.digest;
    } else {
      const interactive = io.interactive ?? process.stderr.isTTY === true;
      let bar: SingleBar | undefined;
      const done = await applyRestore(
        deps,
        parsed.query,
        parsed.options,
        (result) => {
          bar?.increment();
          stdout(describeResult(result, true, clock()));
        },
        (progress) => stderr(describeProgress(progress)),
        (plan) => {
          if (!interactive || plan.entries.size <= PROGRESS_FROM) return;
          bar = new SingleBar({
            stream: process.stderr,
            format: 'restore [{bar}] {value}/{total} {eta_formatted}',
          });
          bar.start(plan.entries.size, 0);
        },
      );
      bar?.stop();
      summary = done.summary;
      digest = done.plan.digest;
    }
  } catch (error) {
    stderr(error instanceof InputError ? `error: ${oneLine(error.message)}` : failureLines(error, env));
    return error instanceof InputError ? 2 : 1;
  }
  if (!apply) {
    stdout(
      `plan ${digest}  (to create exactly what is listed: the same command with --apply --plan ${digest})`,
    );
  }
  stdout(JSON.stringify({ dryRun: !apply, plan: digest, ...summary }));
  const unfinished =
    summary.failed + summary.needsChoice + summary.exists + summary.notInPlan + summary.unverified;
  if (misplacedPointers.size > 0) {
    stderr(
      `warning: ${misplacedPointers.size < MISPLACED_POINTERS_KEPT ? '' : 'at least '}${misplacedPointers.size} pointer item(s) were not where the sweep puts a pointer to what they name, and were not followed. Only a writer of the tombstone table can have put them there: check who holds its write grant.`,
    );
  }
  if (summary.found === 0) stderr('No tombstone matched.');
  return unfinished > 0 || misplacedPointers.size > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(failureLines(error));
      process.exit(1);
    },
  );
}
