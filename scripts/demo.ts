// The demo: starts the emulator in-process, fills it with a realistic account (finished, future and
// in-retry-window at() schedules, DISABLED ones, rate and cron, unknown zones, across several groups
// and zones), then runs the real Lambda handlers against it over HTTP:
//   census → dry-run sweep → sweep → census, and the create path whose schedules remove themselves.
// It checks the outcome against what the population says a correct sweeper deletes: exit 0 when it
// matches, 1 when anything differs or fails, 2 for a command line it does not understand. It talks only
// to its own emulator (the shell's AWS_ENDPOINT_URL_* and profile are ignored) and runs at 20 times
// the deployed request rates, which it says, with what a deployed sweep of the account would take.
//   npm run demo [-- --schedules 5000]

import { readFileSync } from 'node:fs';
import { devNull } from 'node:os';
import { pathToFileURL } from 'node:url';
import { SingleBar } from 'cli-progress';
import { parse as parseYaml } from 'yaml';
import { GROWTH_DEFAULTS } from '../src/census/growth.ts';
import { KEPT_AT_DEPARTURE } from '../src/sweep/gate.ts';
import { RECHECK_AFTER_MS } from '../src/sweep/sweep.ts';
import { ExitCode, HELP_OPTION, parseCommandLine, readWholeNumber, runTool, type ToolIo } from './cli.ts';
import { FINISHED_KINDS } from './emulator/scheduler-synthesize.ts';
import { startEmulator } from './emulator/server.ts';
import { humanDuration } from './human.ts';

const USAGE = `Usage: npm run demo [-- --schedules N]
  Runs the census, sweep and create handlers on an embedded emulator (no AWS account) against a
  synthetic legacy account of N schedules (default 5000, at most 1000000), and checks the result.
  It talks only to its own emulator: AWS_ENDPOINT_URL_*, AWS_PROFILE and ~/.aws/config are ignored.`;
const GROUPS = ['default', 'orders', 'reminders', 'billing'];
const NAMESPACE = 'ScheduleHygiene';
/**
 * The demo's request rates are the deployed defaults times this: the emulator is local, and 5,000
 * schedules at 100 GetSchedule a second would take a minute a sweep.
 */
const DEMO_RATE_FACTOR = 20;
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

/** Environment variables that would point an SDK client elsewhere than the demo's own emulator. */
const AMBIENT_ENDPOINT =
  /^AWS_ENDPOINT_URL(_.+)?$|^AWS_IGNORE_CONFIGURED_ENDPOINT_URLS$|^AWS_PROFILE$|^AWS_DEFAULT_PROFILE$|^AWS_SESSION_TOKEN$/;

type SweepResult = Awaited<ReturnType<typeof import('../src/handlers/sweep.ts').handler>>;
type SweepRates = { list: number; get: number; delete: number };

export async function main(argv: string[], io: ToolIo): Promise<number> {
  const values = parseCommandLine(argv, { schedules: { type: 'string' }, ...HELP_OPTION });
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.ok;
  }
  const scheduleCount =
    values.schedules === undefined ? 5000 : readWholeNumber('--schedules', values.schedules, 1, 1_000_000);
  const deployed = deployedRates();
  const demo = {
    list: deployed.list * DEMO_RATE_FACTOR,
    get: deployed.get * DEMO_RATE_FACTOR,
    delete: deployed.delete * DEMO_RATE_FACTOR,
    census: deployed.census * DEMO_RATE_FACTOR,
  };

  const emulator = await startEmulator();
  // The handlers build their clients from the environment, as in Lambda. Anything in the shell that
  // would send them elsewhere (the emulator section's AWS_ENDPOINT_URL_* exports, a profile with an
  // endpoint_url) is removed first: the demo talks to its own emulator only.
  const ignored = Object.keys(process.env).filter((name) => AMBIENT_ENDPOINT.test(name));
  for (const name of ignored) delete process.env[name];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: emulator.url,
    AWS_CONFIG_FILE: devNull,
    AWS_SHARED_CREDENTIALS_FILE: devNull,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'demo',
    AWS_SECRET_ACCESS_KEY: 'demo',
    AWS_EC2_METADATA_DISABLED: 'true',
    METRICS_NAMESPACE: NAMESPACE,
    SWEEP_LIST_TPS: String(demo.list),
    SWEEP_GET_TPS: String(demo.get),
    SWEEP_DELETE_TPS: String(demo.delete),
    SWEEP_CONCURRENCY: '64',
    // The state table: the sweep lease and the memory of earlier lookups (incremental sweeps).
    SWEEP_STATE_TABLE: 'hygiene-demo-state',
    // The tombstone table: every deleted schedule's definition, written before its delete.
    SWEEP_TOMBSTONE_TABLE: 'hygiene-demo-tombstones',
    // Every tombstone carries a MAC of this HMAC key, which restore verifies before it recreates one.
    SWEEP_TOMBSTONE_MAC_KEY: emulator.services.kms.createHmacKey(
      '123456789012',
      'us-east-1',
      'demo tombstones',
    ),
    CENSUS_LIST_TPS: String(demo.census),
    SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/schedule-hygiene-demo-scheduler',
    CREATE_SCHEDULE_GROUP: 'hygiene-demo',
  });

  let exitCode: number = ExitCode.ok;
  try {
    const { scheduler, cloudwatch, serviceQuotas } = emulator.services;
    console.log(
      `Every AWS client talks to the embedded emulator at ${emulator.url}` +
        (ignored.length > 0 ? ` (ignored from your shell: ${ignored.sort().join(', ')})` : ''),
    );
    console.log(
      `Request rates: ${DEMO_RATE_FACTOR}x the deployed defaults (serverless.yml), so its durations are not a deployed sweep's:\n` +
        `  sweep ListSchedules ${count(demo.list)}/s (deployed ${count(deployed.list)}/s), ` +
        `GetSchedule ${count(demo.get)}/s (${count(deployed.get)}/s), DeleteSchedule ${count(demo.delete)}/s (${count(deployed.delete)}/s); ` +
        `census ListSchedules ${count(demo.census)}/s (${count(deployed.census)}/s)`,
    );
    // The AWS default "Number of schedules" (10,000,000 per account and Region since August 2024), as
    // Service Quotas reports it for an account that never asked for an increase.
    serviceQuotas.setApplied('Number of schedules', 10_000_000);
    await emulator.services.dynamodb.createTable('hygiene-demo-state', { hash: 'pk' });
    await emulator.services.dynamodb.createTable('hygiene-demo-tombstones', { hash: 'pk', range: 'sk' });

    heading(`1. A legacy account: ${count(scheduleCount)} schedules made with ActionAfterCompletion NONE`);
    const bar = process.stderr.isTTY ? progressBar() : undefined;
    const population = scheduler.synthesize({
      count: scheduleCount,
      seed: 7,
      groups: GROUPS,
      graceMinutes: 60,
      ...(bar ? { onProgress: (created: number) => bar.show('seeding', created, scheduleCount) } : {}),
    });
    bar?.stop();
    table(Object.entries(population.byKind).map(([kind, n]) => [kind, count(n), describeKind(kind)]));
    console.log(
      `\nA correct sweeper deletes ${count(population.expectedDeletions)} of them (${population.rule}).`,
    );

    const { handler: censusHandler } = await import('../src/handlers/census.ts');
    const { handler: sweepHandler } = await import('../src/handlers/sweep.ts');

    heading('2. Census (the census handler, as its schedule invokes it): how full is the account?');
    const before = await quiet(() => censusHandler());
    printCensus(before.result);

    heading(
      '3. Dry run: the sweep handler with {"dryRun":true} (the event `sls invoke -f sweep` would send)',
    );
    const dry = await quiet(() => sweepHandler({ dryRun: true }));
    printSweep(dry.result);
    explainSweep(finishedSummary(dry.result), deployed);
    console.log(`Schedules still present after the dry run: ${count(scheduler.count())} (nothing deleted)`);
    const sample = dry.lines.find((line) => line.message === 'tombstone');
    if (sample) {
      console.log(
        `\nOne would-be deletion, as logged (never the target's input):\n${JSON.stringify(sample, null, 2)}`,
      );
    }

    /** The emulator's record of every deletion so far, against the population and a sweep's log lines. */
    const checkSweep = (lines: readonly Record<string, unknown>[]) =>
      checkDeletions({
        deleted: scheduler.deletedNames(),
        keptAtDeparture: keptAtDeparture(lines),
        expected: population.expectedDeletions,
        remainingFinished: FINISHED_KINDS.reduce(
          (sum, kind) => sum + scheduler.count({ namePrefix: `syn-${kind}-` }),
          0,
        ),
        isPresent: (entry) => scheduler.has(groupOf(entry), nameOf(entry)),
      });

    heading('4. The real sweep: the sweep handler with {} (what the hourly trigger sends)');
    const deletesBefore = scheduler.counters().deletedByApi;
    const real = await withProgress(
      (show) =>
        show('deleting', scheduler.counters().deletedByApi - deletesBefore, population.expectedDeletions),
      () => quiet(() => sweepHandler({})),
    );
    printSweep(real.result);
    explainSweep(finishedSummary(real.result), deployed);
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
    const afterReal = checkSweep(real.lines);
    console.log(`\n${afterReal.message}`);
    if (!afterReal.ok) exitCode = ExitCode.failed;

    heading(
      '5. The next hourly sweep (the sweep handler with {} again): only new, changed or now-due schedules are looked up',
    );
    const next = await quiet(() => sweepHandler({}));
    printSweep(next.result);
    explainSweep(finishedSummary(next.result), deployed);
    const first = finishedSummary(real.result);
    const second = finishedSummary(next.result);
    console.log(
      `GetSchedule calls: ${count(second.requests.GetSchedule ?? 0)} (the first sweep made ${count(first.requests.GetSchedule ?? 0)}); ` +
        `${count(second.recalled)} schedules answered from memory`,
    );
    if (afterReal.keptAtDeparture > 0) {
      // The schedules the first sweep kept at departure were never remembered: this sweep looks them up.
      const afterNext = checkSweep(next.lines);
      console.log(`After this sweep: ${afterNext.message}`);
      if (!afterNext.ok) exitCode = ExitCode.failed;
    }

    heading('6. Census after the sweep (the census handler again)');
    const after = await quiet(() => censusHandler());
    printCensus(after.result);

    heading(
      "7. The create path (the library's createOneTimeSchedule): new schedules clean up after themselves",
    );
    const { createOneTimeSchedule } = await import('../src/create/index.ts');
    const { createSchedulerClient } = await import('../src/aws/clients.ts');
    scheduler.createGroup('hygiene-demo');
    const client = createSchedulerClient({ endpoint: emulator.url });
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
    if (scheduler.count({ group: 'hygiene-demo' }) !== 0) exitCode = ExitCode.failed;

    heading('8. Metrics published to CloudWatch (namespace ScheduleHygiene): every point, oldest first');
    console.log(
      'Censuses 2 and 6 publish one point each; the real sweeps 4 and 5 publish one point each at their end\n' +
        "(a dry run publishes nothing: its counts are not the account's). ScheduleCount comes from both: censuses\n" +
        'and sweeps. Heartbeats (CensusInvocations, SweepInvocations) are 1 per invocation.\n',
    );
    const points = new Map<string, string[]>();
    for (const datum of cloudwatch.datums({ namespace: NAMESPACE })) {
      const dimensions = datum.dimensions
        .map((dimension) => `${dimension.Name}=${dimension.Value}`)
        .join(',');
      const key = `${datum.metricName}${dimensions ? `{${dimensions}}` : ''}`;
      points.set(key, [...(points.get(key) ?? []), ...datum.values.map(number)]);
    }
    table(
      [...points.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, values]) => [key, values.join(', ')]),
    );
  } finally {
    await emulator.close();
  }
  return exitCode;
}

/** A cli-progress bar on stderr (only on a terminal, never in tests or pipes). */
function progressBar() {
  const bar = new SingleBar({
    stream: process.stderr,
    format: '{phase} [{bar}] {value}/{total} | {duration_formatted}',
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    show(phase: string, value: number, total: number) {
      if (!started) bar.start(total, value, { phase });
      else bar.update(value, { phase });
      started = true;
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** Runs `work` with a bar on a terminal that `poll` updates every 200 ms. */
async function withProgress<T>(
  poll: (show: ReturnType<typeof progressBar>['show']) => void,
  work: () => Promise<T>,
): Promise<T> {
  if (!process.stderr.isTTY) return work();
  const bar = progressBar();
  const timer = setInterval(() => poll(bar.show), 200);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    bar.stop();
  }
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

type FinishedSweep = Extract<SweepResult, { requests: unknown }>;

/** The summary of a sweep that ran to its end in one invocation (the demo's sweeps always do). */
function finishedSummary(result: SweepResult): FinishedSweep {
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

/** What the demo's sweeps came to, against what the population says a correct sweeper deletes. */
export interface DeletionCheck {
  ok: boolean;
  /** Every deletion so far. */
  deleted: number;
  /** Deletions of schedules a correct sweeper keeps: must be none. */
  unexpected: number;
  /** Finished schedules still present, each named by the sweep as kept at departure. */
  keptAtDeparture: number;
  /** One line that says so. */
  message: string;
}

/**
 * Holds the sweeps to what the bench holds them to (scripts/bench/run.ts, judge), name by name:
 * nothing deleted outside the finished kinds (FINISHED_KINDS) and nothing deleted twice, and every
 * finished schedule still present named by the sweep as kept at departure (a delete the gate could
 * not send within its windows, which a busy machine causes: safe, left for the next sweep), so that
 * the deleted and the kept make up exactly the expected number.
 * `deleted` and `keptAtDeparture` are `group/name` entries; `remainingFinished` is the number of
 * finished-kind schedules still present, `isPresent` answers for one entry.
 */
export function checkDeletions(input: {
  deleted: readonly string[];
  keptAtDeparture: readonly string[];
  expected: number;
  remainingFinished: number;
  isPresent: (entry: string) => boolean;
}): DeletionCheck {
  const finished = new Set<string>(FINISHED_KINDS);
  const isFinished = (entry: string) => finished.has(kindOf(entry) ?? '');
  const distinct = new Set(input.deleted);
  const unexpected = input.deleted.filter((entry) => !isFinished(entry)).length;
  const kept = [...new Set(input.keptAtDeparture)].filter(
    (entry) => isFinished(entry) && input.isPresent(entry) && !distinct.has(entry),
  );
  const deleted = input.deleted.length;
  const ok =
    unexpected === 0 &&
    distinct.size === deleted &&
    kept.length === input.remainingFinished &&
    deleted + kept.length === input.expected;
  const message = !ok
    ? `MISMATCH: deleted ${count(deleted)} (${count(unexpected)} of them not finished, ${count(deleted - distinct.size)} twice); ` +
      `${count(input.remainingFinished)} finished left, ${count(kept.length)} of them named as kept at departure; expected ${count(input.expected)} deleted`
    : kept.length === 0
      ? `Deleted exactly the ${count(deleted)} finished schedules; kept everything else.`
      : `Deleted ${count(deleted)} of the ${count(input.expected)} finished schedules and nothing else; the other ${count(kept.length)} ` +
        `${kept.length === 1 ? 'was' : 'were'} kept at departure (each named in the log: this machine was too busy to send their deletes within ${RECHECK_AFTER_MS} ms of their last read), for the next sweep.`;
  return { ok, deleted, unexpected, keptAtDeparture: kept.length, message };
}

/** The `group/name` of every schedule a sweep's log names as kept at departure. */
function keptAtDeparture(lines: readonly Record<string, unknown>[]): string[] {
  return lines
    .filter((line) => line.message === KEPT_AT_DEPARTURE)
    .map((line) => `${String(line.group)}/${String(line.name)}`);
}

const groupOf = (entry: string) => entry.slice(0, entry.indexOf('/'));
const nameOf = (entry: string) => entry.slice(entry.indexOf('/') + 1);
const kindOf = (entry: string) => /^syn-([A-Za-z]+)-\d+$/.exec(nameOf(entry))?.[1];

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
  growthPerHour?: number;
  daysUntilFull?: number;
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
  if (summary.growthPerHour === undefined) {
    console.log(
      `growth and days until full: not measured. The census fits them to the ScheduleCount points of the last ${GROWTH_DEFAULTS.windowHours} hours, ` +
        `spanning at least ${GROWTH_DEFAULTS.minimumSpanMinutes} minutes; this account has no such history (its censuses and sweeps are seconds apart).`,
    );
  } else {
    const full =
      summary.daysUntilFull === undefined
        ? 'not filling up'
        : `full in ${humanDuration(summary.daysUntilFull * 86_400_000)}`;
    console.log(`growth: ${number(summary.growthPerHour)} schedules an hour; ${full}`);
  }
}

/**
 * The deployed defaults of the sweep's and the census's request rates: serverless.yml's
 * params.default (sweepListTps, sweepGetTps, sweepDeleteTps, censusListTps), what `sls deploy` uses
 * unless told otherwise.
 */
function deployedRates(): SweepRates & { census: number } {
  const config = parseYaml(readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8')) as {
    params?: { default?: Record<string, unknown> };
  };
  const defaults = config.params?.default ?? {};
  const rate = (name: string) => {
    const value = Number(defaults[name]);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`serverless.yml params.default.${name} is not a rate`);
    return value;
  };
  return {
    list: rate('sweepListTps'),
    get: rate('sweepGetTps'),
    delete: rate('sweepDeleteTps'),
    census: rate('censusListTps'),
  };
}

/**
 * What the sweep's numbers mean: GetSchedule split into lookups and re-reads before deletes, and
 * how long the same requests take at the deployed rates (each operation has its own budget and they
 * run side by side, so the slowest one bounds the sweep from below).
 */
function explainSweep(summary: FinishedSweep, deployed: SweepRates) {
  const requests = summary.requests;
  const lookups = summary.scanned - summary.recalled - summary.protected;
  const rereads = requests.rereads;
  // What is neither a lookup nor a re-read: retries after throttling or failures (none in a quiet demo).
  const retries = requests.GetSchedule - lookups - rereads;
  console.log(
    `GetSchedule ${count(requests.GetSchedule)} = ${count(lookups)} lookups (scanned ${count(summary.scanned)} - ${count(summary.recalled)} answered from memory - ${count(summary.protected)} protected)` +
      ` + ${count(rereads)} re-reads before deletes (requests.rereads)` +
      (retries > 0 ? ` + ${count(retries)} retries` : ''),
  );
  if (rereads > 0) {
    console.log(
      `  A delete whose lookup is more than ${RECHECK_AFTER_MS} ms old when its DeleteSchedule budget lets it go reads the schedule again first\n` +
        '  (and again each time it waits that long once more), so a change made meanwhile is never lost to the delete;\n' +
        '  how many depends on the rates and on how busy the machine is.',
    );
  }
  const bounds = [
    { operation: 'ListSchedules', requests: requests.ListSchedules, rate: deployed.list },
    { operation: 'GetSchedule', requests: requests.GetSchedule, rate: deployed.get },
    { operation: 'DeleteSchedule', requests: requests.DeleteSchedule, rate: deployed.delete },
  ].map((bound) => ({ ...bound, ms: (bound.requests / bound.rate) * 1000 }));
  const slowest = bounds.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(
    `Took ${humanDuration(summary.durationSeconds * 1000)} here at ${DEMO_RATE_FACTOR}x the deployed rates; a deployed sweep of this account ` +
      `needs ${slowest.ms < 1000 ? '' : 'at least '}${humanDuration(slowest.ms)} for the same requests (${slowest.operation} ${count(slowest.requests)} at ${count(slowest.rate)}/s).`,
  );
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runTool('demo', main);
