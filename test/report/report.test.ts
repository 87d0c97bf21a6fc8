// `npm run report` end to end: the real CLI, the real STS, Scheduler, Service Quotas and CloudWatch
// clients, against one emulator serving a simulated organization of several accounts and Regions,
// at the report's DEFAULT rates. Every cell is checked against the population seeded into it.
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeededCell, seedOrganization } from '../../scripts/emulator/organization.ts';
import { scheduleCountQuotaName } from '../../scripts/emulator/service-quotas.ts';
import { formatCsv, formatTable, main, parseReportArguments } from '../../scripts/report.ts';
import { createCloudWatchClient } from '../../src/aws/clients.ts';
import type { CellResult } from '../../src/report/report.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { oneTime } from '../sweep/fixtures.ts';

const harness = useTestEmulator();
const ROLE = 'ScheduleHygieneReport';
const ACCOUNTS = ['111111111111', '222222222222', '333333333333'];
const DENYING = '444444444444';
const REGIONS = ['us-east-1', 'eu-west-1'];

/** Six cells of different sizes, mixes and quotas; small, so the default rates (GetSchedule 20/s) finish fast. */
const CELLS = [
  { accountId: '111111111111', region: 'us-east-1', population: { count: 45, seed: 11 }, appliedQuota: 50 },
  { accountId: '111111111111', region: 'eu-west-1', population: { count: 12, seed: 12 } },
  {
    accountId: '222222222222',
    region: 'us-east-1',
    population: { count: 30, seed: 21, mix: { finishedNone: 0, dstGap: 0, disabledPast: 0 } },
    appliedQuota: 2000,
  },
  {
    accountId: '222222222222',
    region: 'eu-west-1',
    population: { count: 38, seed: 22, groups: ['default', 'orders', 'reminders'] },
    appliedQuota: 400,
  },
  { accountId: '333333333333', region: 'us-east-1', population: { count: 0, seed: 31 } },
  {
    accountId: '333333333333',
    region: 'eu-west-1',
    population: { count: 25, seed: 32, mix: { finishedNone: 1, futureAt: 1 } },
    appliedQuota: 1000,
  },
  { accountId: DENYING, region: 'us-east-1', population: { count: 5, seed: 41 } },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string[];
}

/** The report's clock: fixed, so growth against the seeded census points is exact. */
let reportClock = () => harness.emulator.plane.now();

async function report(argv: string[]): Promise<Run> {
  let stdout = '';
  const stderr: string[] = [];
  const code = await main(argv, {
    endpoint: harness.emulator.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    progressBar: false,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => stderr.push(text),
    clock: () => reportClock(),
  });
  return { code, stdout, stderr };
}

describe('npm run report against a simulated organization', () => {
  let seeded: SeededCell[];
  let run: Run;
  let rows: CellResult[];
  const growthAt = { accountId: '222222222222', region: 'eu-west-1' };

  beforeAll(async () => {
    const { services } = harness.emulator;
    seeded = seedOrganization(services, { roleName: ROLE, cells: CELLS, denyingAccounts: [DENYING] });
    // A deployed census in one cell published ScheduleCount 2 h and 1 h ago: 18 then 28 schedules,
    // then 38 now, so 10 an hour. Published with that account's credentials (a 12-digit key acts in it).
    // On a whole minute: CloudWatch answers with points at the start of each 60 s period.
    const now = Math.floor(harness.emulator.plane.now().getTime() / 60_000) * 60_000;
    reportClock = () => new Date(now);
    const cloudwatch = createCloudWatchClient({
      endpoint: harness.emulator.url,
      region: growthAt.region,
      credentials: { accessKeyId: growthAt.accountId, secretAccessKey: 'x' },
    });
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'ScheduleHygiene',
        MetricData: [
          { MetricName: 'ScheduleCount', Value: 18, Unit: 'Count', Timestamp: new Date(now - 2 * 3_600_000) },
          { MetricName: 'ScheduleCount', Value: 28, Unit: 'Count', Timestamp: new Date(now - 3_600_000) },
        ],
      }),
    );
    const started = performance.now();
    run = await report([
      '--accounts',
      [...ACCOUNTS, DENYING].join(','),
      '--regions',
      REGIONS.join(','),
      '--role',
      ROLE,
      '--format',
      'json',
    ]);
    const seconds = (performance.now() - started) / 1000;
    rows = (JSON.parse(run.stdout) as { cells: CellResult[] }).cells;
    // 150 lookups at 20/s each, four cells at once: a few seconds, and never faster than the rate allows.
    expect(seconds).toBeGreaterThan(45 / 20 - 0.5);
  }, 90_000);

  it('reports every seeded cell: count, quota, utilization and finished-but-present', () => {
    expect(rows.map((row) => `${row.accountId}/${row.region}`)).toEqual(
      [...ACCOUNTS, DENYING].flatMap((account) => REGIONS.map((region) => `${account}/${region}`)),
    );
    for (const cell of seeded.filter((entry) => entry.accountId !== DENYING)) {
      const row = rows.find((entry) => entry.accountId === cell.accountId && entry.region === cell.region);
      expect(row, `${cell.accountId} ${cell.region}`).toMatchObject({
        ok: true,
        scheduleCount: cell.population.created,
        quota: cell.quota,
        finishedPresent: cell.population.expectedDeletions,
        utilizationPercent: Number(((cell.population.created / cell.quota) * 100).toPrecision(12)),
        // Exactly one lookup per schedule, and one listing page per 100 (at least one).
        requests: {
          GetSchedule: cell.population.created,
          ListSchedules: Math.max(1, Math.ceil(cell.population.created / 100)),
        },
      });
    }
    // The populations differ, so a report that mixed cells up could not pass.
    expect(new Set(seeded.map((cell) => cell.population.created)).size).toBe(seeded.length);
    expect(rows.find((row) => row.accountId === '111111111111' && row.region === 'us-east-1')).toMatchObject({
      quotaSource: 'applied',
      utilizationPercent: 90,
    });
  });

  it('fails the cells of an account that denies AssumeRole, naming the error, and exits 1', () => {
    for (const region of REGIONS) {
      expect(rows.find((row) => row.accountId === DENYING && row.region === region)).toEqual({
        accountId: DENYING,
        region,
        ok: false,
        error: 'AccessDenied',
      });
    }
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('2 of 8 cells failed; their rows name the error');
  });

  it('assumes the role once per account that has it, with its session name', () => {
    const assumed = harness.emulator.services.sts.assumed();
    expect(assumed.map((entry) => entry.roleArn).sort()).toEqual(
      ACCOUNTS.map((account) => `arn:aws:iam::${account}:role/${ROLE}`),
    );
    expect(new Set(assumed.map((entry) => entry.sessionName))).toEqual(new Set(['schedule-hygiene-report']));
  });

  it('gives growth from the census points where they exist, and n/a elsewhere', () => {
    const grown = rows.find((row) => row.accountId === growthAt.accountId && row.region === growthAt.region);
    expect(grown?.growthPerHour).toBeCloseTo(10, 9);
    // (400 - 38) / 10 per hour / 24
    expect(grown?.daysUntilFull).toBeCloseTo(362 / 10 / 24, 9);
    const others = rows.filter((row) => row.ok && row !== grown);
    expect(others.length).toBe(5);
    for (const row of others) {
      expect(row.growthPerHour).toBeUndefined();
      expect(row.growthNote).toBe('no census data');
    }
    expect(formatTable(rows)).toMatch(
      /222222222222 {2}eu-west-1 +38 +400 +9\.50 +\d+ +0 +10\.0 +1\.5 \(1 day 12 hours\)\n/,
    );
  });

  it('deletes nothing, publishes nothing, and prints no schedule name, target or input', () => {
    for (const scope of harness.emulator.services.scopes()) {
      expect(scope.scheduler.counters().deletedByApi).toBe(0);
      const puts = scope.cloudwatch.putRequests().length;
      expect(puts, `${scope.scope.accountId} ${scope.scope.region}`).toBe(
        scope.scope.accountId === growthAt.accountId && scope.scope.region === growthAt.region ? 1 : 0,
      );
    }
    for (const cell of seeded) {
      const scope = harness.emulator.services.scope(cell.accountId, cell.region);
      expect(scope.scheduler.count()).toBe(cell.population.created);
    }
    for (const output of [run.stdout, formatTable(rows), formatCsv(rows), run.stderr.join('\n')]) {
      expect(output).not.toMatch(/syn-|reference|arn:aws:(lambda|sqs|scheduler)|Input/);
    }
  });

  it('shows progress on stderr, one line per finished cell', () => {
    const lines = run.stderr.filter((line) => /^\[\d+\/8\]/.test(line));
    expect(lines).toHaveLength(8);
    expect(lines.map((line) => /^\[(\d+)\/8\]/.exec(line)?.[1])).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
    ]);
    expect(lines.filter((line) => line.endsWith('failed: AccessDenied'))).toHaveLength(2);
  });

  it('writes the same rows as CSV and as a table', () => {
    const csv = formatCsv(rows).split('\n');
    expect(csv[0]).toBe(
      'account,region,ok,error,schedules,quota,quotaSource,utilizationPercent,finishedPresent,kmsAccessDenied,growthPerHour,daysUntilFull,growthNote,listSchedulesRequests,getScheduleRequests',
    );
    expect(csv).toHaveLength(9);
    const first = seeded[0]!;
    expect(csv[1]).toBe(
      `111111111111,us-east-1,true,,45,50,applied,90,${first.population.expectedDeletions},0,,,no census data,1,45`,
    );
    expect(csv[7]).toBe(`${DENYING},us-east-1,false,AccessDenied,,,,,,,,,,,`);
    const table = formatTable(rows).split('\n');
    expect(table[0]).toMatch(
      /^account +region +schedules +quota +utilization % +finished present +kms denied +growth \/h/,
    );
    expect(table[8]).toMatch(new RegExp(`^${DENYING} {2}eu-west-1 +AccessDenied$`));
  });
});

describe('cells whose numbers the report cannot read', () => {
  const SEALED = '555555555555';
  const NO_QUOTAS = '666666666666';
  const REGION = 'us-east-1';
  const KEY_ARN = `arn:aws:kms:${REGION}:${SEALED}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const args = (account: string, format = 'json') => [
    '--accounts',
    account,
    '--regions',
    REGION,
    '--role',
    ROLE,
    '--format',
    format,
  ];
  const rowOf = (run: Run) => (JSON.parse(run.stdout) as { cells: CellResult[] }).cells[0]!;

  beforeAll(() => {
    const { services } = harness.emulator;
    for (const account of [SEALED, NO_QUOTAS]) services.sts.createRole(account, ROLE);
    const sealed = services.scope(SEALED, REGION);
    sealed.serviceQuotas.setApplied(scheduleCountQuotaName, 100);
    sealed.scheduler.seed([
      oneTime({ name: 'finished-1', at: '2025-06-01T09:00:00' }),
      oneTime({ name: 'finished-2', at: '2025-06-01T09:00:00' }),
      oneTime({ name: 'finished-3', at: '2025-06-01T09:00:00' }),
      { ...oneTime({ name: 'sealed-1', at: '2025-06-01T09:00:00' }), KmsKeyArn: KEY_ARN },
      { ...oneTime({ name: 'sealed-2', at: '2025-06-01T09:00:00' }), KmsKeyArn: KEY_ARN },
    ]);
    sealed.scheduler.denyKmsKeys([KEY_ARN]);
    const denied = services.scope(NO_QUOTAS, REGION);
    denied.scheduler.seed([oneTime({ name: 'finished-1', at: '2025-06-01T09:00:00' })]);
    denied.serviceQuotas.setMode('accessDenied');
  });
  afterAll(() => harness.emulator.plane.faults.reset());

  it('counts the schedules it may not decrypt (KMS) apart from finished-but-present, in every format', async () => {
    const run = await report(args(SEALED));
    expect(run.code).toBe(0);
    expect(rowOf(run)).toMatchObject({
      ok: true,
      scheduleCount: 5,
      finishedPresent: 3,
      kmsAccessDenied: 2,
      quota: 100,
    });
    const csv = (await report(args(SEALED, 'csv'))).stdout.split('\n');
    expect(csv[1]).toMatch(new RegExp(`^${SEALED},${REGION},true,,5,100,applied,5,3,2,`));
    const table = (await report(args(SEALED, 'table'))).stdout.split('\n');
    expect(table[1]).toMatch(new RegExp(`^${SEALED} {2}${REGION} +5 +100 +5\\.00 +3 +2 +n/a`));
  });

  it('fails a cell whose quota Service Quotas denies, showing no quota, and exits 1', async () => {
    const run = await report(args(NO_QUOTAS));
    expect(run.code).toBe(1);
    const row = rowOf(run);
    expect(row).toMatchObject({ ok: false, error: 'QuotaUnknown(AccessDeniedException)', scheduleCount: 1 });
    expect(row.quota).toBeUndefined();
    expect(row.utilizationPercent).toBeUndefined();
    const table = await report(args(NO_QUOTAS, 'table'));
    expect(table.code).toBe(1);
    expect(table.stdout).not.toMatch(/10000000|0\.00/);
    expect(table.stdout).toMatch(/QuotaUnknown\(AccessDeniedException\)$/);
  });

  it('fails a cell whose growth GetMetricData could not read, unlike "no census data", and exits 1', async () => {
    harness.emulator.plane.faults.configure({
      rules: [{ kind: 'error', service: 'cloudwatch', operation: 'GetMetricData' }],
    });
    try {
      const run = await report(args(SEALED));
      expect(run.code).toBe(1);
      const row = rowOf(run);
      expect(row.ok).toBe(false);
      expect(row.growthNote).toMatch(/^error:\w+$/);
      expect(row.error).toBe(`GrowthUnknown(${row.growthNote!.slice('error:'.length)})`);
      expect(row).toMatchObject({ quota: 100, scheduleCount: 5, finishedPresent: 3 });
      const table = await report(args(SEALED, 'table'));
      expect(table.code).toBe(1);
      expect(table.stdout).toContain(row.growthNote!);
      expect(table.stdout).not.toContain('n/a');
    } finally {
      harness.emulator.plane.faults.reset();
    }
  });
});

describe('report flags', () => {
  const valid = ['--accounts', '111111111111', '--regions', 'us-east-1', '--role', 'Reader'];
  const refused = (argv: string[], files: Record<string, string> = {}) => {
    try {
      parseReportArguments(argv, (path) => {
        if (path in files) return files[path]!;
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`accepted ${argv.join(' ')}`);
  };

  it('reads the defaults: table, the quota view, ListSchedules 5/s, GetSchedule 20/s, 4 cells at once', () => {
    expect(parseReportArguments(valid)).toEqual({
      accounts: ['111111111111'],
      regions: ['us-east-1'],
      role: 'Reader',
      format: 'table',
      view: 'quota',
      listPerSecond: 5,
      getPerSecond: 20,
      parallelCells: 4,
      namespace: 'ScheduleHygiene',
    });
  });

  it('reads account ids from a file, one per line', () => {
    const parsed = parseReportArguments(
      ['--accounts', 'ids.txt', '--regions', 'eu-west-1', '--role', 'R'],
      () => '111111111111\r\n222222222222\n',
    );
    expect(parsed).toMatchObject({ accounts: ['111111111111', '222222222222'] });
  });

  it.each([
    [['--regions', 'us-east-1', '--role', 'R'], /Invalid --accounts: expected a value/],
    [
      ['--accounts', '11111111111', '--regions', 'us-east-1', '--role', 'R'],
      /--accounts: .*item 1 is not 12 digits/,
    ],
    [['--accounts', '111111111111,', '--regions', 'us-east-1', '--role', 'R'], /--accounts: .*item 2/],
    [
      ['--accounts', '111111111111,111111111111', '--regions', 'us-east-1', '--role', 'R'],
      /--accounts: .*each once/,
    ],
    [
      ['--accounts', 'missing.txt', '--regions', 'us-east-1', '--role', 'R'],
      /--accounts: .*no readable file there: ENOENT/,
    ],
    [['--accounts', 'ids.txt', '--regions', 'us-east-1', '--role', 'R'], /--accounts: .*line 2 of ids.txt/],
    [['--accounts', 'empty.txt', '--regions', 'us-east-1', '--role', 'R'], /--accounts: .*the file is empty/],
    [
      ['--accounts', '111111111111', '--regions', 'US-EAST-1', '--role', 'R'],
      /--regions: .*item 1 is not one/,
    ],
    [
      ['--accounts', '111111111111', '--regions', 'us-east-1,,eu-west-1', '--role', 'R'],
      /--regions: .*item 2/,
    ],
    [
      ['--accounts', '111111111111', '--regions', 'us-east-1,cn-north-1', '--role', 'R'],
      /--regions: expected Regions of one partition/,
    ],
    [
      ['--accounts', '111111111111', '--regions', 'us-east-1,us-east-1', '--role', 'R'],
      /--regions: expected Region names, each once/,
    ],
    [['--accounts', '111111111111', '--regions', 'us-east-1'], /--role: expected a value/],
    [
      ['--accounts', '111111111111', '--regions', 'us-east-1', '--role', 'path/Reader'],
      /--role: expected a role name/,
    ],
    [['--accounts', '111111111111', '--regions', 'us-east-1', '--role', 'a'.repeat(65)], /--role/],
    [[...valid, '--format', 'xml'], /--format: expected one of table, json, csv/],
    [[...valid, '--list-tps', '51'], /--list-tps: expected a whole number of requests or cells from 1 to 50/],
    [[...valid, '--get-tps', '2e1'], /--get-tps/],
    [[...valid, '--parallel', '0'], /--parallel/],
    [[...valid, '--namespace', 'AWS/Scheduler'], /--namespace: expected a CloudWatch namespace/],
    [[...valid, '--dry-run'], /Unknown argument '--dry-run'/],
    [[...valid, 'extra'], /Unknown argument 'extra'/],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(refused(argv, { 'ids.txt': '111111111111\n\n222222222222\n', 'empty.txt': '' })).toMatch(message);
  });

  it('exits 2 with one line naming an unknown flag and where the usage is, before any AWS call', async () => {
    const calls = harness.emulator.services.sts.assumed().length;
    const run = await report([...valid, '--acounts', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toEqual([
      expect.stringMatching(/^error: Unknown argument '--acounts'; .* \(usage: npm run report -- --help\)$/),
    ]);
    expect(run.stdout).toBe('');
    expect(harness.emulator.services.sts.assumed().length).toBe(calls);
  });
});
