// The demo: starts the emulator in-process, fills it with a realistic account (finished, future and
// in-retry-window at() schedules, DISABLED ones, rate and cron, unknown zones, across several groups
// and zones), then runs the real Lambda handlers against it over HTTP:
//   census → dry-run sweep → sweep → census, and the create path whose schedules remove themselves.
// It checks the outcome against what the population says a correct sweeper deletes and exits non-zero
// if anything differs.
//   npm run demo [-- --schedules 5000]

import { parseCommandLine, readWholeNumber } from './cli.ts';
import { startEmulator } from './emulator/server.ts';

const SCHEDULE_COUNT = readCount(process.argv.slice(2));
const GROUPS = ['default', 'orders', 'reminders', 'billing'];
const NAMESPACE = 'ScheduleHygiene';
/** The summary fields the demo prints for each sweep. */
const SWEEP_FIELDS = [
  'dryRun',
  'scanned',
  'finished',
  'deleted',
  'wouldDelete',
  'pending',
  'recurring',
  'skipped',
  'failed',
  'throttled',
  'requests',
  'durationSeconds',
] as const;

const emulator = await startEmulator();
// Every SDK client the handlers build honours these, exactly as in `sls invoke local`.
Object.assign(process.env, {
  AWS_ENDPOINT_URL: emulator.url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'demo',
  AWS_SECRET_ACCESS_KEY: 'demo',
  AWS_EC2_METADATA_DISABLED: 'true',
  METRICS_NAMESPACE: NAMESPACE,
  // Demo budgets: generous, since the emulator is local (production defaults are far lower).
  SWEEP_LIST_TPS: '200',
  SWEEP_GET_TPS: '2000',
  SWEEP_DELETE_TPS: '2000',
  SWEEP_CONCURRENCY: '64',
  // The state table: the sweep lease and the memory of earlier lookups (incremental sweeps).
  SWEEP_STATE_TABLE: 'hygiene-demo-state',
  // The tombstone table: every deleted schedule's definition, written before its delete.
  SWEEP_TOMBSTONE_TABLE: 'hygiene-demo-tombstones',
  CENSUS_LIST_TPS: '200',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/schedule-hygiene-demo-scheduler',
  CREATE_SCHEDULE_GROUP: 'hygiene-demo',
});

let exitCode = 0;
try {
  const { scheduler, cloudwatch, serviceQuotas } = emulator.services;
  // The AWS default "Number of schedules" (10,000,000 per account and Region since August 2024), as
  // Service Quotas reports it for an account that never asked for an increase.
  serviceQuotas.setApplied('Number of schedules', 10_000_000);
  await emulator.services.dynamodb.createTable('hygiene-demo-state', { hash: 'pk' });
  await emulator.services.dynamodb.createTable('hygiene-demo-tombstones', { hash: 'pk', range: 'sk' });

  heading(`1. A legacy account: ${count(SCHEDULE_COUNT)} schedules made with ActionAfterCompletion NONE`);
  const population = scheduler.synthesize({
    count: SCHEDULE_COUNT,
    seed: 7,
    groups: GROUPS,
    graceMinutes: 60,
  });
  table(Object.entries(population.byKind).map(([kind, n]) => [kind, count(n), describeKind(kind)]));
  console.log(
    `\nA correct sweeper deletes ${count(population.expectedDeletions)} of them (${population.rule}).`,
  );

  const { handler: censusHandler } = await import('../src/handlers/census.ts');
  const { handler: sweepHandler } = await import('../src/handlers/sweep.ts');

  heading('2. Census: how full is the account?');
  const before = await quiet(() => censusHandler());
  printCensus(before.result);

  heading('3. Dry run: sls invoke -f sweep --data \'{"dryRun":true}\'');
  const dry = await quiet(() => sweepHandler({ dryRun: true }));
  printSweep(dry.result);
  console.log(`Schedules still present after the dry run: ${count(scheduler.count())} (nothing deleted)`);
  const sample = dry.lines.find((line) => line.message === 'tombstone');
  if (sample) {
    console.log(
      `\nOne would-be deletion, as logged (never the target's input):\n${JSON.stringify(sample, null, 2)}`,
    );
  }

  heading('4. The real sweep (what the hourly trigger runs)');
  const real = await quiet(() => sweepHandler({}));
  printSweep(real.result);
  const deletedByKind = countByKind(scheduler.deletedNames());
  const keptByKind = new Map(
    Object.keys(population.byKind).map((kind) => [kind, scheduler.count({ namePrefix: `syn-${kind}-` })]),
  );
  table(
    Object.keys(population.byKind).map((kind) => [
      kind,
      `deleted ${count(deletedByKind.get(kind) ?? 0)}`,
      `kept ${count(keptByKind.get(kind) ?? 0)}`,
      describeKind(kind),
    ]),
  );
  const deleted = scheduler.deletedNames().length;
  if (deleted !== population.expectedDeletions) {
    console.error(`\nMISMATCH: deleted ${count(deleted)}, expected ${count(population.expectedDeletions)}`);
    exitCode = 1;
  } else {
    console.log(`\nDeleted exactly the ${count(deleted)} finished schedules; kept everything else.`);
  }

  heading('5. The next hourly sweep: only new, changed or now-due schedules are looked up again');
  const next = await quiet(() => sweepHandler({}));
  printSweep(next.result);
  const first = finishedSummary(real.result);
  const second = finishedSummary(next.result);
  console.log(
    `GetSchedule calls: ${count(second.requests.GetSchedule ?? 0)} (the first sweep made ${count(first.requests.GetSchedule ?? 0)}); ` +
      `${count(second.recalled)} schedules answered from memory`,
  );

  heading('6. Census after the sweep');
  const after = await quiet(() => censusHandler());
  printCensus(after.result);

  heading('7. The create path: new schedules clean up after themselves');
  const { createOneTimeSchedule } = await import('../src/create/index.ts');
  const { createSchedulerClient } = await import('../src/aws/clients.ts');
  scheduler.createGroup('hygiene-demo');
  const client = createSchedulerClient();
  const clock = () => emulator.plane.now();
  const inTenMinutes = new Date(clock().getTime() + 10 * 60_000);
  const created = [];
  for (const orderId of ['1001', '1002', '1003']) {
    created.push(
      await createOneTimeSchedule(
        { scheduler: client, clock },
        {
          runAt: inTenMinutes.toISOString(),
          targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:schedule-hygiene-demo-target',
          input: { orderId, action: 'expire-cart' },
          businessId: `order-${orderId}`,
          idempotencyKey: `expire-cart-${orderId}`,
        },
        { groupName: 'hygiene-demo', roleArn: process.env.SCHEDULER_ROLE_ARN! },
      ),
    );
  }
  for (const schedule of created) {
    const stored = scheduler.get(schedule.groupName, schedule.name);
    console.log(
      `created ${schedule.name}  ${schedule.scheduleExpression}  ActionAfterCompletion=${stored?.ActionAfterCompletion}`,
    );
  }
  console.log(`schedules in hygiene-demo now: ${scheduler.count({ group: 'hygiene-demo' })}`);
  emulator.plane.setNow(new Date(inTenMinutes.getTime() + 5 * 60_000));
  console.log('...the emulator clock moves 15 minutes on; Scheduler runs them and removes them itself...');
  console.log(`schedules in hygiene-demo now: ${scheduler.count({ group: 'hygiene-demo' })}`);
  if (scheduler.count({ group: 'hygiene-demo' }) !== 0) exitCode = 1;

  heading('8. Metrics published to CloudWatch (namespace ScheduleHygiene): every point, oldest first');
  console.log(
    'Censuses 2 and 6 publish one point each; the sweeps 3, 4 and 5 publish one point each at their end\n' +
      '(the dry run too: it finds, but deletes nothing). ScheduleCount comes from both: censuses and sweeps.\n' +
      'Heartbeats (CensusInvocations, SweepInvocations) are 1 per invocation.\n',
  );
  const points = new Map<string, string[]>();
  for (const datum of cloudwatch.datums({ namespace: NAMESPACE })) {
    const dimensions = datum.dimensions.map((dimension) => `${dimension.Name}=${dimension.Value}`).join(',');
    const key = `${datum.metricName}${dimensions ? `{${dimensions}}` : ''}`;
    points.set(key, [...(points.get(key) ?? []), ...datum.values.map(number)]);
  }
  table(
    [...points.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, values]) => [key, values.join(', ')]),
  );
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await emulator.close();
}
process.exit(exitCode);

function readCount(argv: string[]): number {
  const { schedules } = parseCommandLine(argv, { schedules: { type: 'string' } });
  return schedules === undefined ? 5000 : readWholeNumber('--schedules', schedules, 1, 1_000_000);
}

/** Runs a handler with its JSON log lines captured instead of printed (a tombstone per deletion is a lot). */
async function quiet<T>(run: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim() === '') continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        write(`${line}\n`);
      }
    }
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await run(), lines };
  } finally {
    process.stdout.write = write;
  }
}

/** The summary of a sweep that ran to its end in one invocation (the demo's sweeps always do). */
function finishedSummary(result: Awaited<ReturnType<typeof import('../src/handlers/sweep.ts').handler>>) {
  if (result.status !== 'finished')
    throw new Error(`Expected the sweep to finish, got status ${result.status}`);
  return result;
}

/** A count with thousands separators: 10,000,000. */
function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** A measured value without float noise (0.1 + 0.2 prints 0.3): at most 3 decimals, separators. */
function number(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function heading(text: string) {
  console.log(`\n=== ${text}`);
}

function table(rows: string[][]) {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  for (const row of rows)
    console.log(`  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`);
}

function describeKind(kind: string): string {
  const descriptions: Record<string, string> = {
    finishedNone: 'at() long past, NONE: finished, delete',
    dstGap: 'at() in a DST gap, never fires: finished, delete',
    disabledPast: 'DISABLED at() long past, can never fire: delete',
    futureAt: 'at() still to come: keep',
    insideRetryWindow: 'at() fired < 12 h ago, retries may be in flight: keep',
    rate: 'rate(): recurring, keep',
    cron: 'cron(): recurring, keep',
    unknownZone: 'zone unknown to this runtime: unsure, keep (skipped)',
  };
  return descriptions[kind] ?? '';
}

/** Synthetic names are `syn-<kind>-<index>`; deleted names come as `group/name`. */
function countByKind(names: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) {
    const kind = /syn-([A-Za-z]+)-/.exec(name)?.[1];
    if (kind) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

interface CensusLike {
  total: number;
  quota: { value: number; source: string };
  utilizationPercent: number;
  byGroup: Record<string, number>;
  byState: Record<string, number>;
}

// The census handler answers with the summary when it completed, else with its status only.
function printCensus(result: CensusLike | { status: string }) {
  if (!('total' in result)) {
    console.log(`census: ${result.status}`);
    return;
  }
  const summary = result;
  console.log(
    `schedules: ${count(summary.total)} of a quota of ${count(summary.quota.value)} (${summary.quota.source}) = ${number(summary.utilizationPercent)}%`,
  );
  console.log(`by group: ${JSON.stringify(summary.byGroup)}  by state: ${JSON.stringify(summary.byState)}`);
}

// The sweep handler answers its status with the summary (or only a status when another sweep runs).
function printSweep(result: object) {
  const summary = result as Partial<Record<'status' | (typeof SWEEP_FIELDS)[number], unknown>>;
  const fields = ['status', ...SWEEP_FIELDS] as const;
  console.log(
    JSON.stringify(Object.fromEntries(fields.map((field) => [field, summary[field]])), (_, value) =>
      typeof value === 'number' ? Number(value.toFixed(3)) : value,
    ),
  );
}
