// The organization report: assumes a read-only role in each account and, per Region, counts the
// schedules against the quota, the finished ones still present (a dry-run sweep: nothing is deleted),
// and growth, then prints one table (or JSON, or CSV) on stdout. Progress goes to stderr.
//   npm run report -- --accounts 111111111111,222222222222 --regions us-east-1,eu-west-1 --role ScheduleHygieneReport
//   npm run report -- --accounts accounts.txt --regions us-east-1 --role ScheduleHygieneReport --format csv
// Exit code: 0 when every cell succeeded, 1 when any cell failed (its row names the error: AccessDenied,
// QuotaUnknown(...), GrowthUnknown(...), ...), 2 for a
// command line that is not understood (nothing is called).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { SingleBar } from 'cli-progress';
import {
  type Credentials,
  createCloudFormationClient,
  createCloudWatchClient,
  createSchedulerClient,
  createServiceQuotasClient,
} from '../src/aws/clients.ts';
import { readNamespace } from '../src/config.ts';
import { ConfigError, clip, InputError } from '../src/errors.ts';
import type { Logger } from '../src/log.ts';
import { type ProducersCellResult, producersCell } from '../src/report/producers.ts';
import {
  type CellClients,
  type CellResult,
  GROWTH_ERROR_PREFIX,
  REPORT_DEFAULTS,
  runCells,
  runReport,
} from '../src/report/report.ts';
import { SWEEP_DEFAULTS } from '../src/sweep/config.ts';
import { failureLines, parseCommandLine, readWholeNumber, runTool, usageErrorLine } from './cli.ts';
import { humanDuration } from './human.ts';

const ACCOUNT_ID = /^\d{12}$/;
/** Region names as AWS spells them: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5. */
const REGION = /^[a-z]{2}(-[a-z]+){1,2}-\d{1,2}$/;
/** IAM's RoleName: 1-64 of letters, digits and + = , . @ _ - (IAM API reference, CreateRole). */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** The role session every AssumeRole of the report names, so CloudTrail shows what assumed the role. */
export const SESSION_NAME = 'schedule-hygiene-report';
export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];
/** quota: counts, quota, finished present, growth (the default). producers: who makes the schedules, and CloudFormation's finished ones. */
export const VIEWS = ['quota', 'producers'] as const;
export type View = (typeof VIEWS)[number];

export interface ReportArguments {
  accounts: string[];
  regions: string[];
  role: string;
  format: Format;
  view: View;
  listPerSecond: number;
  getPerSecond: number;
  parallelCells: number;
  namespace: string;
}

export const USAGE = `Usage: npm run report -- --accounts <id,id,...|file> --regions <region,region,...> --role <role name>
  [--format table|json|csv] [--view quota|producers] [--list-tps 1-50 (${REPORT_DEFAULTS.listPerSecond})] [--get-tps 1-1000 (${REPORT_DEFAULTS.getPerSecond})]
  [--parallel 1-32 cells at once (${REPORT_DEFAULTS.parallelCells})] [--namespace <CloudWatch namespace> (${REPORT_DEFAULTS.namespace})]
--accounts: 12-digit account ids separated by commas, or a file with one id per line.
Assumes arn:<partition>:iam::<account>:role/<role name> in each account with your credentials; nothing is deleted.`;

/** Reads the command line; every error is an InputError naming the flag. */
export function parseReportArguments(
  argv: readonly string[],
  readFile = readTextFile,
): ReportArguments | 'help' {
  const values = parseCommandLine(argv, {
    accounts: { type: 'string' },
    regions: { type: 'string' },
    role: { type: 'string' },
    format: { type: 'string' },
    view: { type: 'string' },
    'list-tps': { type: 'string' },
    'get-tps': { type: 'string' },
    parallel: { type: 'string' },
    namespace: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const accounts = readAccounts(required('--accounts', values.accounts), readFile);
  const regions = readRegions(required('--regions', values.regions));
  const role = required('--role', values.role);
  if (!ROLE_NAME.test(role)) {
    throw new InputError('--role', 'a role name (1-64 of letters, digits and + = , . @ _ -, no path)', role);
  }
  const format = values.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new InputError('--format', 'one of table, json, csv', format);
  }
  const view = values.view ?? 'quota';
  if (!(VIEWS as readonly string[]).includes(view)) {
    throw new InputError('--view', 'one of quota, producers', view);
  }
  let namespace: string;
  try {
    namespace = readNamespace({ '--namespace': values.namespace }, '--namespace', REPORT_DEFAULTS.namespace);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new InputError('--namespace', error.expected, error.got);
  }
  return {
    accounts,
    regions,
    role,
    format: format as Format,
    view: view as View,
    listPerSecond: optionalNumber('--list-tps', values['list-tps'], 1, 50, REPORT_DEFAULTS.listPerSecond),
    getPerSecond: optionalNumber('--get-tps', values['get-tps'], 1, 1000, REPORT_DEFAULTS.getPerSecond),
    parallelCells: optionalNumber('--parallel', values.parallel, 1, 32, REPORT_DEFAULTS.parallelCells),
    namespace,
  };
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new InputError(flag, 'a value (it is required)');
  return value;
}

function optionalNumber(flag: string, text: string | undefined, min: number, max: number, fallback: number) {
  return text === undefined ? fallback : readWholeNumber(flag, text, min, max, 'requests or cells');
}

const ACCOUNTS_FORM = '12-digit account ids separated by commas, or a file with one 12-digit id per line';

/**
 * `--accounts`: ids when the value holds only digits and commas (each then exactly 12 digits), else
 * a file path: one id per line, nothing else on it (a final newline and CRLF line ends are fine).
 */
function readAccounts(value: string, readFile: (path: string) => string): string[] {
  let ids: string[];
  if (/^[\d,]+$/.test(value)) {
    ids = value.split(',');
    ids.forEach((id, index) => {
      if (!ACCOUNT_ID.test(id)) {
        throw new InputError('--accounts', `${ACCOUNTS_FORM} (item ${index + 1} is not 12 digits)`, id);
      }
    });
  } else {
    let text: string;
    try {
      text = readFile(value);
    } catch (error) {
      throw new InputError(
        '--accounts',
        `${ACCOUNTS_FORM} (no readable file there: ${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        value,
      );
    }
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    if (lines.length === 0) throw new InputError('--accounts', `${ACCOUNTS_FORM} (the file is empty)`, value);
    lines.forEach((line, index) => {
      if (!ACCOUNT_ID.test(line)) {
        throw new InputError(
          '--accounts',
          `${ACCOUNTS_FORM} (line ${index + 1} of ${clip(value)} is not a 12-digit id alone)`,
          line,
        );
      }
    });
    ids = lines;
  }
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate !== undefined) throw new InputError('--accounts', `${ACCOUNTS_FORM}, each once`, duplicate);
  return ids;
}

function readRegions(value: string): string[] {
  const regions = value.split(',');
  regions.forEach((region, index) => {
    if (!REGION.test(region)) {
      throw new InputError(
        '--regions',
        `Region names separated by commas, such as us-east-1,eu-west-1 (item ${index + 1} is not one)`,
        region,
      );
    }
  });
  const duplicate = regions.find((region, index) => regions.indexOf(region) !== index);
  if (duplicate !== undefined) throw new InputError('--regions', 'Region names, each once', duplicate);
  const partitions = new Set(regions.map(partitionOf));
  if (partitions.size > 1) {
    throw new InputError('--regions', 'Regions of one partition (aws, aws-cn or aws-us-gov)', value);
  }
  return regions;
}

/** The ARN partition of a Region (aws-cn for cn-*, aws-us-gov for us-gov-*, else aws). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

function readTextFile(path: string): string {
  return readFileSync(path, 'utf8');
}

// ----- output

const COLUMNS = [
  ['account', (row: CellResult) => row.accountId],
  ['region', (row: CellResult) => row.region],
  ['schedules', (row: CellResult) => whole(row.scheduleCount)],
  ['quota', (row: CellResult) => whole(row.quota)],
  ['utilization %', (row: CellResult) => fixed(row.utilizationPercent, 2)],
  ['finished present', (row: CellResult) => whole(row.finishedPresent)],
  ['kms denied', (row: CellResult) => whole(row.kmsAccessDenied)],
  ['growth /h', (row: CellResult) => growthCell(row)],
  ['days until full', (row: CellResult) => (row.ok ? daysUntilFull(row.daysUntilFull) : '')],
  ['error', (row: CellResult) => row.error ?? ''],
] as const;

/** The growth, `error:<name>` when GetMetricData failed, `n/a` when there is no census data. */
function growthCell(row: CellResult): string {
  if (row.growthNote?.startsWith(GROWTH_ERROR_PREFIX)) return row.growthNote;
  return row.ok ? fixed(row.growthPerHour, 1) || 'n/a' : '';
}

/** '1.5 (1 day 12 hours)': the days, and the same for people (date-fns); 'n/a' when not filling up or unknown. */
function daysUntilFull(days: number | undefined): string {
  return days === undefined ? 'n/a' : `${fixed(days, 1)} (${humanDuration(days * 86_400_000)})`;
}

const whole = (value: number | undefined) => (value === undefined ? '' : String(value));
const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '' : value.toFixed(digits);

export function formatTable(rows: readonly CellResult[]): string {
  const cells = [COLUMNS.map(([title]) => title), ...rows.map((row) => COLUMNS.map(([, read]) => read(row)))];
  const widths = COLUMNS.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)));
  return cells
    .map((line) =>
      line
        .map((text, column) =>
          column < 2 || column === line.length - 1
            ? text.padEnd(widths[column]!)
            : text.padStart(widths[column]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const CSV_HEADER = [
  'account',
  'region',
  'ok',
  'error',
  'schedules',
  'quota',
  'quotaSource',
  'utilizationPercent',
  'finishedPresent',
  'kmsAccessDenied',
  'growthPerHour',
  'daysUntilFull',
  'growthNote',
  'listSchedulesRequests',
  'getScheduleRequests',
];

export function formatCsv(rows: readonly CellResult[]): string {
  const field = (value: string | number | boolean | undefined) => {
    const text = value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [
    CSV_HEADER.join(','),
    ...rows.map((row) =>
      [
        row.accountId,
        row.region,
        row.ok,
        row.error,
        row.scheduleCount,
        row.quota,
        row.quotaSource,
        row.utilizationPercent,
        row.finishedPresent,
        row.kmsAccessDenied,
        row.growthPerHour,
        row.daysUntilFull,
        row.growthNote,
        row.requests?.ListSchedules,
        row.requests?.GetSchedule,
      ]
        .map(field)
        .join(','),
    ),
  ].join('\n');
}

export function formatJson(rows: readonly CellResult[], settings: Record<string, unknown>): string {
  return JSON.stringify({ settings, cells: rows }, null, 2);
}

// ----- running

export interface ReportIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Draw a progress bar (a terminal); otherwise one line per finished cell. Default: stderr is a TTY. */
  progressBar?: boolean;
  /** Every service endpoint (the emulator in tests); otherwise the SDK's own rules (AWS_ENDPOINT_URL_*). */
  endpoint?: string;
  /** The credentials that assume the role; otherwise the SDK's default chain. */
  credentials?: Credentials;
  clock?: () => Date;
  readFile?: (path: string) => string;
}

/** Runs the report; returns the exit code (0 every cell succeeded, 1 some failed, 2 not understood). */
export async function main(argv: readonly string[], io: ReportIo = {}): Promise<number> {
  const stdout = io.stdout ?? ((text) => process.stdout.write(`${text}\n`));
  const stderr = io.stderr ?? ((text) => process.stderr.write(`${text}\n`));
  let args: ReportArguments | 'help';
  try {
    args = parseReportArguments(argv, io.readFile);
  } catch (error) {
    if (!(error instanceof InputError)) {
      stderr(failureLines(error));
      return 1;
    }
    stderr(usageErrorLine('report', error));
    return 2;
  }
  if (args === 'help') {
    stdout(USAGE);
    return 0;
  }
  const settings = {
    role: args.role,
    listSchedulesPerSecond: args.listPerSecond,
    getSchedulePerSecond: args.getPerSecond,
    parallelCells: args.parallelCells,
    graceMinutes: SWEEP_DEFAULTS.graceMinutes,
    keepDisabled: SWEEP_DEFAULTS.keepDisabled,
    namespace: args.namespace,
  };
  const progress = createProgress(args.accounts.length * args.regions.length, io, stderr);
  if (args.view === 'producers') {
    const cells = await runCells(
      {
        assume: (accountId) => assumeRole(accountId, args, io),
        clock: io.clock ?? (() => new Date()),
        log: silentLog,
      },
      {
        accounts: args.accounts,
        regions: args.regions,
        parallelCells: args.parallelCells,
        onProgress: (event) => {
          if (event.kind === 'cellFinished') progress.finished(event.result);
        },
      },
      (clients, cell) =>
        producersCell(
          clients,
          cell,
          { clock: io.clock ?? (() => new Date()), log: silentLog },
          {
            listPerSecond: args.listPerSecond,
            getPerSecond: args.getPerSecond,
            concurrency: REPORT_DEFAULTS.concurrency,
            graceMinutes: SWEEP_DEFAULTS.graceMinutes,
            keepDisabled: SWEEP_DEFAULTS.keepDisabled,
          },
        ),
    );
    progress.stop();
    stdout(
      args.format === 'json'
        ? JSON.stringify({ settings: { ...settings, view: 'producers' }, cells }, null, 2)
        : args.format === 'csv'
          ? formatProducersCsv(cells)
          : formatProducersTable(cells),
    );
    const failedCells = cells.filter((row) => !row.ok).length;
    if (failedCells > 0) stderr(`${failedCells} of ${cells.length} cells failed; their rows name the error`);
    return failedCells > 0 ? 1 : 0;
  }
  const rows = await runReport(
    {
      assume: (accountId) => assumeRole(accountId, args, io),
      clock: io.clock ?? (() => new Date()),
      log: silentLog,
    },
    {
      accounts: args.accounts,
      regions: args.regions,
      listPerSecond: args.listPerSecond,
      getPerSecond: args.getPerSecond,
      concurrency: REPORT_DEFAULTS.concurrency,
      parallelCells: args.parallelCells,
      namespace: args.namespace,
      graceMinutes: SWEEP_DEFAULTS.graceMinutes,
      keepDisabled: SWEEP_DEFAULTS.keepDisabled,
      onProgress: (event) => {
        if (event.kind === 'cellFinished') progress.finished(event.result);
      },
    },
  );
  progress.stop();
  stdout(
    args.format === 'json'
      ? formatJson(rows, settings)
      : args.format === 'csv'
        ? formatCsv(rows)
        : formatTable(rows),
  );
  const failed = rows.filter((row) => !row.ok).length;
  if (failed > 0) stderr(`${failed} of ${rows.length} cells failed; their rows name the error`);
  return failed > 0 ? 1 : 0;
}

/**
 * Assumes the report role in one account (one AssumeRole, through STS in the first Region given),
 * and returns what builds a Region's clients with the credentials, refreshed before they expire.
 * Throws the STS error (AccessDenied, ...) when the role cannot be assumed.
 */
async function assumeRole(
  accountId: string,
  args: ReportArguments,
  io: ReportIo,
): Promise<(region: string) => CellClients> {
  const stsRegion = args.regions[0]!;
  const provider = fromTemporaryCredentials({
    params: {
      RoleArn: `arn:${partitionOf(stsRegion)}:iam::${accountId}:role/${args.role}`,
      RoleSessionName: SESSION_NAME,
      DurationSeconds: 3600,
    },
    ...(io.credentials ? { masterCredentials: io.credentials } : {}),
    clientConfig: { region: stsRegion, ...(io.endpoint ? { endpoint: io.endpoint } : {}) },
  });
  const credentials = refreshing(provider);
  await credentials();
  return (region) => {
    const options = { region, credentials, ...(io.endpoint ? { endpoint: io.endpoint } : {}) };
    return {
      // maxAttempts 1: the sweep's request budgets own every retry, so the SDK must not retry behind them.
      scheduler: createSchedulerClient({
        ...options,
        maxAttempts: 1,
        maxSockets: REPORT_DEFAULTS.concurrency * 2,
      }),
      serviceQuotas: createServiceQuotasClient(options),
      cloudwatch: createCloudWatchClient(options),
      // maxAttempts 1: the ownership reader's budget owns retries.
      cloudformation: createCloudFormationClient({ ...options, maxAttempts: 1 }),
    };
  };
}

/** The provider's credentials, shared by every client, fetched again within 5 minutes of their expiration. */
function refreshing(provider: () => Promise<Credentials>): () => Promise<Credentials> {
  let current: Promise<Credentials> | undefined;
  return async () => {
    const held = current ? await current.catch(() => undefined) : undefined;
    if (held && (held.expiration === undefined || held.expiration.getTime() - Date.now() > 5 * 60_000))
      return held;
    current = provider();
    return current;
  };
}

/** The cores' log lines are not the report's output (and a dry run logs one line per finished schedule). */
const silentLog: Logger = { info: () => {}, warn: () => {}, error: () => {} };

// ----- the producers view

/** Target ARNs in the table: the first 60 characters (JSON and CSV carry them whole, as tallied). */
const TABLE_TARGET_WIDTH = 60;
/** Logical IDs listed per stack in the table (JSON and CSV list them all). */
const TABLE_LOGICAL_IDS = 5;

/** Two tables: the top producers per cell, then CloudFormation's finished schedules per stack. */
export function formatProducersTable(cells: readonly ProducersCellResult[]): string {
  const producers = [
    ['account', 'region', 'rank', 'target', 'schedules', '% of cell', 'exact', 'error'],
    ...cells.flatMap((cell) => {
      if (!cell.producers) return [[cell.accountId, cell.region, '', '', '', '', '', cell.error ?? '']];
      const lines = cell.producers.map((row, index) => [
        cell.accountId,
        cell.region,
        String(index + 1),
        clipTarget(row.targetArn),
        String(row.count),
        row.percent.toFixed(2),
        row.uncertainty === 0 ? 'yes' : `+${row.uncertainty}`,
        '',
      ]);
      lines.push([
        cell.accountId,
        cell.region,
        '',
        'Other',
        String(cell.otherTargets ?? 0),
        '',
        '',
        cell.error ?? '',
      ]);
      return lines;
    }),
  ];
  const stacks = [
    ['account', 'region', 'stack', 'declared', 'present', 'finished', 'undecided', 'finished logical IDs'],
    ...cells.flatMap((cell) =>
      (cell.cloudformation?.stacks ?? []).map((stack) => {
        const ids = stack.finished.map((item) => item.logicalId ?? item.name);
        const shown = ids.slice(0, TABLE_LOGICAL_IDS).join(' ');
        return [
          cell.accountId,
          cell.region,
          stack.stack,
          String(stack.declared),
          String(stack.present),
          String(stack.finished.length),
          String(stack.undecided),
          ids.length > TABLE_LOGICAL_IDS ? `${shown} (+${ids.length - TABLE_LOGICAL_IDS} more)` : shown,
        ];
      }),
    ),
  ];
  return `${align(producers, [4, 5])}\n\nCloudFormation-owned schedules (kept by the sweep; remove the finished ones from the template):\n${align(stacks, [3, 4, 5, 6])}`;
}

function clipTarget(target: string): string {
  return target.length > TABLE_TARGET_WIDTH ? `${target.slice(0, TABLE_TARGET_WIDTH - 3)}...` : target;
}

/** Columns padded to their widest cell; `numeric` columns right-aligned. */
function align(lines: string[][], numeric: number[]): string {
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length)));
  return lines
    .map((line) =>
      line
        .map((text, column) =>
          numeric.includes(column) ? text.padStart(widths[column]!) : text.padEnd(widths[column]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const PRODUCERS_CSV_HEADER = [
  'account',
  'region',
  'kind',
  'rank',
  'group',
  'target',
  'schedules',
  'uncertainty',
  'percentOfCell',
  'stack',
  'declared',
  'present',
  'finished',
  'undecided',
  'finishedLogicalIds',
  'finishedSchedules',
  'ok',
  'error',
];

/**
 * One CSV, a row per line of the view, told apart by `kind`: `producer` (top targets and `Other`),
 * `pair` (top group × target), `stack` (CloudFormation's declared schedules), `cell` (a cell with
 * no rows of its own, or its error). Logical IDs and `group/name` of finished schedules are joined
 * with spaces.
 */
export function formatProducersCsv(cells: readonly ProducersCellResult[]): string {
  const rows: (string | number | boolean | undefined)[][] = [];
  for (const cell of cells) {
    const base = { account: cell.accountId, region: cell.region, ok: cell.ok, error: cell.error };
    const row = (
      fields: Partial<Record<(typeof PRODUCERS_CSV_HEADER)[number], string | number | boolean | undefined>>,
    ) => PRODUCERS_CSV_HEADER.map((name) => ({ ...base, ...fields })[name as keyof typeof base]);
    if (!cell.producers) {
      rows.push(row({ kind: 'cell' }));
      continue;
    }
    cell.producers.forEach((producer, index) => {
      rows.push(
        row({
          kind: 'producer',
          rank: index + 1,
          target: producer.targetArn,
          schedules: producer.count,
          uncertainty: producer.uncertainty,
          percentOfCell: producer.percent,
        }),
      );
    });
    rows.push(row({ kind: 'producer', target: 'Other', schedules: cell.otherTargets ?? 0 }));
    (cell.pairs ?? []).forEach((pair, index) => {
      rows.push(
        row({
          kind: 'pair',
          rank: index + 1,
          group: pair.group,
          target: pair.targetArn,
          schedules: pair.count,
          uncertainty: pair.uncertainty,
          percentOfCell: pair.percent,
        }),
      );
    });
    for (const stack of cell.cloudformation?.stacks ?? []) {
      rows.push(
        row({
          kind: 'stack',
          stack: stack.stack,
          declared: stack.declared,
          present: stack.present,
          finished: stack.finished.length,
          undecided: stack.undecided,
          finishedLogicalIds: stack.finished.map((item) => item.logicalId ?? '').join(' '),
          finishedSchedules: stack.finished.map((item) => `${item.group}/${item.name}`).join(' '),
        }),
      );
    }
  }
  const field = (value: string | number | boolean | undefined) => {
    const text = value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [PRODUCERS_CSV_HEADER.join(','), ...rows.map((line) => line.map(field).join(','))].join('\n');
}

function createProgress(total: number, io: ReportIo, stderr: (text: string) => void) {
  const useBar = io.progressBar ?? process.stderr.isTTY === true;
  let done = 0;
  if (useBar) {
    const bar = new SingleBar({
      stream: process.stderr,
      format: 'report [{bar}] {value}/{total} cells | {last}',
      hideCursor: true,
    });
    bar.start(total, 0, { last: '' });
    return {
      finished: (row: CellResult) =>
        bar.increment(1, { last: `${row.accountId} ${row.region} ${row.ok ? 'done' : row.error}` }),
      stop: () => bar.stop(),
    };
  }
  return {
    finished: (row: CellResult) => {
      done += 1;
      stderr(`[${done}/${total}] ${row.accountId} ${row.region} ${row.ok ? 'done' : `failed: ${row.error}`}`);
    },
    stop: () => {},
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runTool('report', (argv) => main(argv));
}
