// One benchmark run: start the emulator process with per-operation caps and latency, synthesize the
// population there, run the real sweep() (or the naive loop) with the real SDK clients against it,
// and gather time, per-operation rates, throttling, peak memory and correctness into one result.
import { availableParallelism, loadavg } from 'node:os';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  createCloudWatchClient,
  createDynamoDbClient,
  createKmsClient,
  createSchedulerClient,
} from '../../src/aws/clients.ts';
import { SOCKETS_BESIDE_ITEMS } from '../../src/handlers/sweep.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { createProtection, type ProtectionCheck } from '../../src/protect/protection.ts';
import { createDynamoLeaseStore } from '../../src/state/lease.ts';
import { createDynamoMemory } from '../../src/state/memory.ts';
import { sustainableRequestsPerSecond } from '../../src/sweep/capacity.ts';
import { KEPT_AT_DEPARTURE } from '../../src/sweep/gate.ts';
import { LIST_LOOKAHEAD_PAGES } from '../../src/sweep/listing.ts';
import { SweepScope } from '../../src/sweep/metrics.ts';
import { RunStatus, runSweep, type SweepState } from '../../src/sweep/run.ts';
import { type SweepOptions, type SweepSummary, sweep } from '../../src/sweep/sweep.ts';
import { tableArnFor } from '../../src/tombstone/origin.ts';
import { createDynamoTombstoneStore, type TombstoneWriter } from '../../src/tombstone/store.ts';
import type { SyntheticKindValue } from '../emulator/scheduler-synthesize.ts';
import { measureRequestPathFloor, type RequestPathFloor } from './floor.ts';
import {
  maxRssMiB,
  meterDynamoDbRequests,
  meterRequests,
  type OperationWindow,
  type RequestMeter,
  sampleRss,
} from './measure.ts';
import { naiveSweep } from './naive.ts';
import {
  BenchMix,
  BenchMode,
  type BenchOptions,
  defaultConcurrency,
  RequestPath,
  TombstoneStore,
} from './options.ts';
import {
  type EmulatorProcess,
  type OperationCounts,
  type PopulationReport,
  startEmulatorProcess,
  type Verification,
} from './protocol.ts';
import { meterTombstones, type TombstoneWriteLatency } from './tombstones.ts';

export const Operation = {
  list: 'ListSchedules',
  get: 'GetSchedule',
  delete: 'DeleteSchedule',
} as const;
type OperationName = (typeof Operation)[keyof typeof Operation];

export interface OperationResult {
  /** Requests the emulator received, throttled ones included. */
  calls: number;
  /** Answered 429 ThrottlingException. */
  throttled: number;
  budgetTps: number;
  /** calls / seconds between this operation's first and last request: its rate while it was busy. */
  achievedTps: number;
  activeSeconds: number;
  shareOfBudget: number;
  /**
   * The most this operation could have reached given the others: GetSchedule is fed by listing (100 per
   * page), DeleteSchedule only gets the finished share of what GetSchedule finds. Equal to the budget
   * when the operation itself is the bottleneck.
   */
  ceilingTps: number;
  shareOfCeiling: number;
  /** What sets `ceilingTps`: the operation's own budget, or the operation that feeds it. */
  ceilingSetBy: 'own budget' | OperationName;
  /** What bounded the rate in this run (see boundOf): the ceiling only when the rate came near it. */
  limitedBy: Bound;
}

/**
 * What bounded an operation's rate. `own budget` or a feeding operation only when the rate reached
 * NEAR_CEILING of that ceiling; else the sweeper's or the emulator's CPU when either process was busy
 * NEAR_CEILING of the run (one thread each), a host whose load average exceeded its cores, the naive
 * loop's one request at a time, or `unclear`.
 */
export type Bound =
  | 'own budget'
  | OperationName
  | 'sweeper CPU'
  | 'emulator CPU'
  | 'busy host'
  | 'one request at a time'
  | 'unclear';

/** The share of a ceiling (or of a CPU) from which it is named as the bound. */
export const NEAR_CEILING = 0.8;

/** What the run as a whole tells about its bounds: each process's CPU share of the run, and the host. */
export interface RunLoad {
  sweeperCpuShare: number;
  emulatorCpuShare: number;
  loadAverage: number;
  cpus: number;
  naive: boolean;
}

/** What bounded an operation that reached `shareOfCeiling` of the ceiling `ceilingSetBy` sets, in a run with `load`. */
export function boundOf(
  operation: Pick<OperationResult, 'shareOfCeiling' | 'ceilingSetBy'>,
  load: RunLoad,
): Bound {
  if (operation.shareOfCeiling >= NEAR_CEILING) return operation.ceilingSetBy;
  if (load.sweeperCpuShare >= NEAR_CEILING) return 'sweeper CPU';
  if (load.emulatorCpuShare >= NEAR_CEILING) return 'emulator CPU';
  if (load.naive) return 'one request at a time';
  if (load.loadAverage > load.cpus) return 'busy host';
  return 'unclear';
}

export interface SecondSweepResult {
  seconds: number;
  advancedHours: number;
  /** Pending schedules that the clock advance made finished: the only ones a lookup is needed for. */
  becameDue: number;
  /** Schedules that became finished while the second sweep ran: looking them up (and deleting them) is right too. */
  becameDueDuringSweep: number;
  /** Finished schedules the first sweep kept at departure: not remembered, so looked up and deleted now. */
  carriedOver: number;
  /** Every GetSchedule request the emulator answered: one per schedule looked up, plus re-reads before deletes. */
  getScheduleCalls: number;
  /** Distinct schedules looked up: listed, not answered from memory, not protected. */
  schedulesLookedUp: number;
  /** GetSchedule requests beyond one per schedule: a delete sent more than 100 ms after its read reads again first. */
  rereads: number;
  /** True when the schedules looked up were only those that became due (before or during the sweep), and all due before it. */
  lookedUpOnlyDue: boolean;
  listScheduleCalls: number;
  /** ListSchedules calls over the second sweep's seconds, and that over the list budget: listing is its bound. */
  listSchedulesPerSecond: number;
  listShareOfBudget: number;
  /**
   * Where the listing's time went. ListSchedules is a NextToken chain, one request in flight at a
   * time, so it cannot go faster than one page per round trip: `listRoundTripMs` is the mean round
   * trip as the sweeper saw it (send to parsed answer, the emulator's added latency included),
   * `listRoundTripCeilingShare` the most a chain with that round trip can reach as a share of the
   * budget (1000 / round trip / budget, at most 1), and `listInFlightShare` the part of the sweep's
   * seconds with a ListSchedules in flight. A share of 1 means the listing never waited for the rest
   * of the sweep (its memory reads, its items), only for its own answers and its budget.
   */
  listRoundTripMs: number;
  listRoundTripCeilingShare: number;
  listInFlightShare: number;
  /** Most pages the sweep lists ahead of the page it works on (src/sweep/listing.ts). */
  listLookaheadPages: number;
  /**
   * The emulator process's CPU time over the second sweep (its Scheduler and its dynalite, which
   * answers the memory reads), and that per listed page: on a free core, the emulator alone allows
   * at most 1000 / `emulatorCpuMsPerPage` pages a second.
   */
  emulatorCpuSeconds: number;
  emulatorCpuMsPerPage: number;
  deleteScheduleCalls: number;
  recalled: number;
  /** The second sweep's CPU time in the bench process and its Scheduler requests (see BenchResult.cpuSeconds). */
  cpuSeconds: number;
  requestsSent: number;
  cpuMsPerRequest: number;
  /** See BenchResult.memory. */
  memory: { reads: number; writes: number; requests: number };
  correctness: Correctness;
}

export interface Correctness {
  expectedDeletes: number;
  deleted: number;
  unexpectedDeletes: number;
  /** Expected schedules still present after the run. */
  remainingExpected: number;
  /**
   * Finished schedules the sweep kept because their delete could not leave within the re-read
   * window of its read (skipped.staleAtDeparture: a machine too busy for the window). Kept and
   * counted, as the product promises; left for the next sweep.
   */
  keptAtDeparture: number;
  unexpectedSample?: string[];
  ok: boolean;
}

export interface BenchResult {
  mode: BenchMode;
  schedules: number;
  mix: BenchMix;
  seconds: number;
  /** Naive mode with --max-seconds: the whole run's time estimated from the measured per-schedule rate. */
  extrapolated?: boolean;
  measuredSeconds?: number;
  schedulesPerSecond: number;
  latencyMs: number;
  /** How the sweeper sent GetSchedule, DeleteSchedule and ListSchedules (the naive loop always uses the SDK's send). */
  requestPath: RequestPath;
  concurrency?: number;
  /** The sweep ran with the state table (lease and memory of lookups), as --second-sweep needs. */
  incremental?: boolean;
  operations: Record<OperationName, OperationResult>;
  throttled: number;
  failed: number;
  /**
   * CPU time of the bench process (the sweeper: the emulator runs in its own process) over the sweep,
   * user + system, in seconds, from process.cpuUsage(). Robust to other work on the machine, unlike rates.
   */
  cpuSeconds: number;
  /** Scheduler requests the sweeper sent (ListSchedules + GetSchedule + DeleteSchedule, retries included). */
  requestsSent: number;
  /**
   * cpuSeconds over requestsSent (Scheduler requests only), in milliseconds: what the sweeper's single
   * thread spends per Scheduler request, all its work included (DynamoDB requests for tombstones and
   * the lookup memory, logs, decisions). The figure a Lambda's memory is sized from: the budgets are
   * in Scheduler requests.
   */
  cpuMsPerRequest: number;
  /** DynamoDB requests the sweeper sent (tombstones, and with the state table its memory and lease), every attempt. */
  dynamodbRequestsSent: number;
  /** cpuSeconds over every request sent, Scheduler and DynamoDB, in milliseconds. */
  cpuMsPerRequestAll: number;
  /**
   * The largest request rate one vCPU sustains at that cost (1000 / cpuMsPerRequest), and what a Lambda
   * of each memory size sustains: Lambda gives 1 vCPU at 1,769 MB and a proportional share below.
   */
  sustainableRequestsPerSecond: { perVcpu: number; byLambdaMemoryMb: Record<string, number> };
  peakRssMiB: number;
  maxRssMiB: number;
  baselineRssMiB: number;
  /** `cpuSeconds`: the emulator process's CPU time over the sweep (Scheduler, and DynamoDB through dynalite). */
  emulator: { seedSeconds: number; rssMiB: number; pid: number; cpuSeconds: number };
  /** Distinct schedules looked up (listed, not answered from memory, not protected). */
  schedulesLookedUp: number;
  /**
   * GetSchedule requests beyond one per schedule looked up: a delete sent more than 100 ms after the
   * read of its schedule reads it again first (docs/guarantees.md, "What the sweeper guarantees").
   */
  rereads: number;
  /**
   * The tombstone store over the sweep: how long each tombstone write took until DynamoDB
   * acknowledged it (the wait before its delete), and the DynamoDB requests it sent, by operation.
   */
  tombstones?: {
    /** The DynamoDB tombstone store as deployed, or tombstones kept in the bench process (--tombstones memory). */
    store: TombstoneStore;
    writeLatencyMs: TombstoneWriteLatency;
    requests: Record<string, number>;
  };
  /** The bench and the emulator share these cores with whatever else runs: the load says how much. */
  host: { cpus: number; loadAverageBefore: number; loadAverageAfter: number };
  correctness: Correctness;
  /**
   * With the state table: the memory of lookups' DynamoDB use over the sweep. `reads` are items
   * requested by BatchGetItem (each up to 4 KB: 0.5 RRU eventually consistent), `writes` items put or
   * deleted by BatchWriteItem (each up to 1 KB: 1 WRU), `requests` the batch calls.
   */
  memory?: { reads: number; writes: number; requests: number };
  secondSweep?: SecondSweepResult;
  /**
   * Sweep mode, after the sweeps: GetSchedule alone through the same client, at the same concurrency
   * and GetSchedule budget (floor.ts), and `shareOfSweep`, its CPU per request over the sweep's
   * cpuMsPerRequest: the least of the sweep's cost per request that is the request path itself (a
   * floor: these calls share wake-ups more than the sweep's). Absent when no schedule was left.
   */
  requestPathFloor?: RequestPathFloor & { shareOfSweep: number };
}

/** GetSchedule requests the request path's floor is measured over (fewer for a smaller population). */
export const FLOOR_REQUESTS = 2_000;

const FINISHED_ONLY: Record<SyntheticKindValue, number> = {
  finishedNone: 1,
  dstGap: 0,
  disabledPast: 0,
  futureAt: 0,
  insideRetryWindow: 0,
  rate: 0,
  cron: 0,
  unknownZone: 0,
};

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * A logger that formats every line as the Lambda would (the cost is real) but keeps only errors, to
 * stderr, and the names of the schedules the sweep kept at departure (KEPT_AT_DEPARTURE), which the
 * correctness check holds against the finished schedules left behind.
 */
type BenchLogger = Logger & { errors: () => number; takeKeptAtDeparture: () => string[] };
function benchLogger(): BenchLogger {
  let errors = 0;
  let kept: string[] = [];
  const logger = createLogger((line) => {
    if (line.startsWith('{"level":"warn"')) {
      const fields = JSON.parse(line) as { message?: string; name?: string };
      if (fields.message === KEPT_AT_DEPARTURE && fields.name) kept.push(fields.name);
      return;
    }
    if (!line.startsWith('{"level":"error"')) return;
    errors += 1;
    if (errors <= 5) process.stderr.write(`${line}\n`);
  });
  const takeKeptAtDeparture = () => {
    const taken = kept;
    kept = [];
    return taken;
  };
  return Object.assign(logger, { errors: () => errors, takeKeptAtDeparture });
}

/** How far a run is, for a progress bar: reported when seeding starts, then every quarter second of the first sweep. */
export interface BenchProgress {
  phase: 'seeding' | 'sweep';
  /** Schedules listed so far (100 a ListSchedules page), of `total`. */
  listed: number;
  deleteRequests: number;
  total: number;
}

export async function runBench(
  options: BenchOptions,
  onProgress?: (progress: BenchProgress) => void,
): Promise<BenchResult> {
  const emulator = await startEmulatorProcess();
  try {
    return await benchAgainst(emulator, options, onProgress);
  } finally {
    await emulator.close();
  }
}

async function benchAgainst(
  emulator: EmulatorProcess,
  options: BenchOptions,
  onProgress?: (progress: BenchProgress) => void,
): Promise<BenchResult> {
  const budgets = { list: options.listTps, get: options.getTps, delete: options.deleteTps };
  await emulator.request({
    command: 'configure',
    rateLimits: {
      [Operation.list]: budgets.list,
      [Operation.get]: budgets.get,
      [Operation.delete]: budgets.delete,
    },
    latencyMs: options.latencyMs,
  });
  onProgress?.({ phase: 'seeding', listed: 0, deleteRequests: 0, total: options.schedules });
  const population = await emulator.request<PopulationReport>({
    command: 'synthesize',
    count: options.schedules,
    seed: options.seed,
    graceMinutes: options.graceMinutes,
    ...(options.mix === BenchMix.finished ? { mix: FINISHED_ONLY } : {}),
  });

  const clientOptions = {
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  };
  const naive = options.mode === BenchMode.naive;
  // The sweep owns its retries (maxAttempts 1, as its handler builds it); the naive loop keeps the SDK's.
  const concurrency = options.concurrency ?? defaultConcurrency(options);
  // As the sweep handler builds it: sockets for every item in flight, the stack resolved once, and
  // (unless --request-path sdk) the lean path for the hot operations.
  const scheduler = createSchedulerClient(
    naive
      ? clientOptions
      : {
          ...clientOptions,
          maxAttempts: 1,
          // As deployed (sweepSchedulerClient): a socket per item in flight, plus the listing's and tag reads'.
          maxSockets: concurrency + SOCKETS_BESIDE_ITEMS,
          cacheMiddleware: true,
          leanRequestPath: options.requestPath === RequestPath.lean,
        },
  );
  const cloudwatch = createCloudWatchClient(clientOptions);
  const meter = meterRequests(scheduler);
  const clock = await emulatorClock(emulator);
  const log = benchLogger();
  const sweepOptions: SweepRunOptions = {
    dryRun: false,
    groups: [],
    graceMinutes: options.graceMinutes,
    keepDisabled: false,
    budgets,
    concurrency,
    namespace: 'ScheduleHygieneBench',
  };
  // The incremental sweep keeps its memory in a DynamoDB table of the same emulator process.
  // One client each, as metered apart: the tombstone store's requests are reported on their own.
  // The gate's DynamoDB and KMS clients as the handler builds them: the lean request path for its
  // batch reads and writes and its MACs (unless --request-path sdk).
  const gateClientOptions = {
    ...clientOptions,
    leanRequestPath: !naive && options.requestPath === RequestPath.lean,
  };
  const stateDynamodb = createDynamoDbClient(gateClientOptions);
  // The state table exists as deployed: the delete gate reads each deletion's protection from it
  // (the names restore --keep protected), whether or not this run keeps a memory of lookups there.
  const stateTables = await createStateTable(stateDynamodb);
  const stateTable = options.secondSweep ? stateTables : undefined;
  const protection = naive
    ? undefined
    : createProtection({
        scheduler,
        prefixes: [],
        state: { dynamodb: stateDynamodb, tableName: STATE_TABLE },
        log,
      });
  const stateMeter = meterDynamoDbRequests(stateDynamodb);
  // Every deletion writes its tombstone first, as in production (no tombstone, no delete).
  const tombstoneDynamodb = createDynamoDbClient(gateClientOptions);
  const tombstones = await createTombstoneTable(tombstoneDynamodb, createKmsClient(gateClientOptions));
  const dynamodbMeter = meterDynamoDbRequests(tombstoneDynamodb);
  const tombstoneMeter = naive
    ? undefined
    : meterTombstones(
        options.tombstones === TombstoneStore.memory ? acceptedTombstones() : tombstones(clock),
      );

  const firstState = stateTable?.(clock);
  await emulator.request({ command: 'resetStats' });
  dynamodbMeter.reset();
  stateMeter.reset();
  const emulatorCpuBefore = await emulator.request<NodeJS.CpuUsage>({ command: 'cpu' });
  const loadAverageBefore = loadavg()[0] ?? 0;
  const baselineRssMiB = process.memoryUsage.rss() / 2 ** 20;
  const rss = sampleRss();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let summary: SweepSummary | undefined;
  let naiveResult: Awaited<ReturnType<typeof naiveSweep>> | undefined;
  const ticker = onProgress
    ? setInterval(() => {
        const windows = meter.windows();
        onProgress({
          phase: 'sweep',
          listed: Math.min(options.schedules, (windows[Operation.list]?.sent ?? 0) * 100),
          deleteRequests: windows[Operation.delete]?.sent ?? 0,
          total: options.schedules,
        });
      }, 250)
    : undefined;
  try {
    if (naive) {
      naiveResult = await naiveSweep(
        { scheduler, clock },
        {
          graceMinutes: options.graceMinutes,
          ...(options.maxSeconds === undefined ? {} : { maxSeconds: options.maxSeconds }),
        },
      );
    } else {
      summary = await sweepOnce(
        {
          scheduler,
          cloudwatch,
          clock,
          log,
          tombstones: tombstoneMeter!.writer,
          ...(protection ? { protection } : {}),
          ...(firstState ? { state: firstState } : {}),
        },
        sweepOptions,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  const measuredSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  rss.stop();
  const peakRssMiB = rss.peakMiB();

  const emulatorCpu = cpuSince(
    emulatorCpuBefore,
    await emulator.request<NodeJS.CpuUsage>({ command: 'cpu' }),
  );
  const stats = await emulator.request<OperationCounts>({ command: 'stats' });
  const verification = await emulator.request<Verification>({
    command: 'verifyFirst',
    keptAtDeparture: log.takeKeptAtDeparture(),
  });
  const complete = naiveResult ? naiveResult.complete : summary?.complete === true;
  const inspected = naiveResult ? naiveResult.inspected : options.schedules;
  const extrapolated = naiveResult !== undefined && !naiveResult.complete;
  const seconds = extrapolated
    ? (measuredSeconds * options.schedules) / Math.max(1, inspected)
    : measuredSeconds;

  const result: BenchResult = {
    mode: options.mode,
    schedules: options.schedules,
    mix: options.mix,
    seconds: round(seconds),
    ...(naive ? { extrapolated, measuredSeconds: round(measuredSeconds) } : {}),
    schedulesPerSecond: round(inspected / measuredSeconds, 1),
    latencyMs: options.latencyMs,
    requestPath: naive ? RequestPath.sdk : options.requestPath,
    ...(naive ? {} : { concurrency, incremental: options.secondSweep }),
    operations: operationResults({
      stats,
      windows: meter.windows(),
      budgets,
      finishedShare: verification.expectedDeletes / Math.max(1, options.schedules),
      load: {
        sweeperCpuShare: (cpu.user + cpu.system) / 1e6 / measuredSeconds,
        emulatorCpuShare: emulatorCpu / measuredSeconds,
        loadAverage: loadavg()[0] ?? 0,
        cpus: availableParallelism(),
        naive,
      },
    }),
    throttled: Object.values(Operation).reduce((sum, name) => sum + (stats[name]?.throttled ?? 0), 0),
    failed: naiveResult ? naiveResult.failed : (summary?.failed ?? 0),
    ...cpuFigures(cpu, meter.windows(), [dynamodbMeter.counts(), stateMeter.counts()]),
    peakRssMiB: round(peakRssMiB, 1),
    maxRssMiB: round(maxRssMiB(), 1),
    baselineRssMiB: round(baselineRssMiB, 1),
    emulator: {
      seedSeconds: round(population.seedSeconds),
      rssMiB: round(population.emulatorRssMiB, 1),
      pid: emulator.pid,
      cpuSeconds: round(emulatorCpu, 3),
    },
    ...lookups(stats, summary),
    ...(tombstoneMeter
      ? {
          tombstones: {
            store: options.tombstones,
            writeLatencyMs: tombstoneMeter.latency(),
            requests: Object.fromEntries(
              TOMBSTONE_OPERATIONS.map((name) => [name, dynamodbMeter.counts()[name] ?? 0]),
            ),
          },
        }
      : {}),
    host: {
      cpus: availableParallelism(),
      loadAverageBefore: round(loadAverageBefore),
      loadAverageAfter: round(loadavg()[0] ?? 0),
    },
    correctness: judge(verification, complete, summary?.skipped.staleAtDeparture ?? 0),
    ...(firstState ? { memory: { ...firstState.memory.stats } } : {}),
  };
  if (options.secondSweep) {
    result.secondSweep = await secondSweep(emulator, options, {
      scheduler,
      cloudwatch,
      log,
      meter,
      state: stateTable!,
      sweepOptions,
    });
  }
  if (!naive) {
    const floor = await measureRequestPathFloor(scheduler, {
      requests: Math.min(FLOOR_REQUESTS, options.schedules),
      getTps: budgets.get,
      listTps: budgets.list,
      concurrency,
    });
    if (floor) {
      result.requestPathFloor = {
        ...floor,
        cpuMsPerRequest: round(floor.cpuMsPerRequest, 4),
        seconds: round(floor.seconds),
        shareOfSweep: result.cpuMsPerRequest > 0 ? round(floor.cpuMsPerRequest / result.cpuMsPerRequest) : 0,
      };
    }
  }
  return result;
}

/** Lambda memory sizes the bench reports a sustainable rate for: the deployed default (256), two between, and the backlog size (one vCPU). */
export const REPORTED_MEMORY_MB = [256, 512, 1024, 1769] as const;

/** The DynamoDB operations the tombstone store sends. */
const TOMBSTONE_OPERATIONS = ['BatchWriteItem', 'UpdateItem'] as const;

/** CPU seconds between two process.cpuUsage() readings (microseconds, user + system). */
function cpuSince(before: NodeJS.CpuUsage, after: NodeJS.CpuUsage): number {
  return (after.user - before.user + after.system - before.system) / 1e6;
}

/**
 * Schedules looked up (the emulator's GetSchedule count less the re-reads), and the re-reads the
 * sweep's delete gate reports (naive: none are re-read).
 */
function lookups(
  stats: OperationCounts,
  summary: SweepSummary | undefined,
): Pick<BenchResult, 'schedulesLookedUp' | 'rereads'> {
  const getCalls = stats[Operation.get]?.calls ?? 0;
  const rereads = summary?.requests.rereads ?? 0;
  return { schedulesLookedUp: getCalls - rereads, rereads };
}

function cpuFigures(
  cpu: NodeJS.CpuUsage,
  windows: Record<string, OperationWindow>,
  dynamodbCounts: Record<string, number>[] = [],
): Pick<
  BenchResult,
  | 'cpuSeconds'
  | 'requestsSent'
  | 'cpuMsPerRequest'
  | 'dynamodbRequestsSent'
  | 'cpuMsPerRequestAll'
  | 'sustainableRequestsPerSecond'
> {
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const requestsSent = Object.values(Operation).reduce((sum, name) => sum + (windows[name]?.sent ?? 0), 0);
  const cpuMsPerRequest = requestsSent > 0 ? (cpuSeconds * 1000) / requestsSent : 0;
  const dynamodbRequestsSent = dynamodbCounts
    .flatMap((counts) => Object.values(counts))
    .reduce((sum, sent) => sum + sent, 0);
  const allRequests = requestsSent + dynamodbRequestsSent;
  const byLambdaMemoryMb = Object.fromEntries(
    REPORTED_MEMORY_MB.map((mb) => [
      String(mb),
      cpuMsPerRequest > 0 ? Math.floor(sustainableRequestsPerSecond(mb, cpuMsPerRequest)) : 0,
    ]),
  );
  return {
    cpuSeconds: round(cpuSeconds, 3),
    requestsSent,
    cpuMsPerRequest: round(cpuMsPerRequest, 4),
    dynamodbRequestsSent,
    cpuMsPerRequestAll: allRequests > 0 ? round((cpuSeconds * 1000) / allRequests, 4) : 0,
    sustainableRequestsPerSecond: {
      perVcpu: cpuMsPerRequest > 0 ? Math.floor(1000 / cpuMsPerRequest) : 0,
      byLambdaMemoryMb,
    },
  };
}

/** The sweeper's clock follows the emulator's (which the second sweep moves forward). */
async function emulatorClock(emulator: EmulatorProcess): Promise<() => Date> {
  const { now } = await emulator.request<{ now: string }>({ command: 'now' });
  const offset = new Date(now).getTime() - Date.now();
  return () => new Date(Date.now() + offset);
}

/**
 * Nothing outside the expected set may be deleted, ever; a complete run must also leave none of the
 * required ones behind but those the sweep kept at departure, named in its log and counted in its
 * summary (`staleAtDeparture`), the same ones (then `deleted` plus `keptAtDeparture` equals
 * `expectedDeletes`, as no name is deleted twice). A run stopped by the naive time limit is only held
 * to the first rule.
 */
export function judge(verification: Verification, complete: boolean, staleAtDeparture: number): Correctness {
  const { keptAtDeparture } = verification;
  const ok =
    verification.unexpectedDeletes === 0 &&
    (!complete ||
      (keptAtDeparture === staleAtDeparture && verification.remainingExpected === keptAtDeparture));
  return {
    expectedDeletes: verification.expectedDeletes,
    deleted: verification.deleted,
    unexpectedDeletes: verification.unexpectedDeletes,
    remainingExpected: verification.remainingExpected,
    keptAtDeparture: Math.max(0, keptAtDeparture),
    ...(verification.unexpectedSample.length > 0 ? { unexpectedSample: verification.unexpectedSample } : {}),
    ok,
  };
}

function operationResults(input: {
  stats: OperationCounts;
  windows: Record<string, OperationWindow>;
  budgets: { list: number; get: number; delete: number };
  finishedShare: number;
  load: RunLoad;
}): Record<OperationName, OperationResult> {
  const { budgets } = input;
  const listFeeds = budgets.list * 100;
  const getCeiling = Math.min(budgets.get, listFeeds);
  const deleteFeed = getCeiling * input.finishedShare;
  const ceilings: Record<OperationName, Pick<OperationResult, 'ceilingTps' | 'ceilingSetBy'>> = {
    ListSchedules: { ceilingTps: budgets.list, ceilingSetBy: 'own budget' },
    GetSchedule:
      listFeeds < budgets.get
        ? { ceilingTps: listFeeds, ceilingSetBy: Operation.list }
        : { ceilingTps: budgets.get, ceilingSetBy: 'own budget' },
    DeleteSchedule:
      deleteFeed < budgets.delete
        ? { ceilingTps: deleteFeed, ceilingSetBy: Operation.get }
        : { ceilingTps: budgets.delete, ceilingSetBy: 'own budget' },
  };
  const budgetOf: Record<OperationName, number> = {
    ListSchedules: budgets.list,
    GetSchedule: budgets.get,
    DeleteSchedule: budgets.delete,
  };
  const entries = Object.values(Operation).map((name) => {
    const calls = input.stats[name]?.calls ?? 0;
    const window = input.windows[name];
    const activeSeconds = window ? (window.lastMs - window.firstMs) / 1000 : 0;
    const achievedTps = activeSeconds > 0 ? calls / activeSeconds : 0;
    const { ceilingTps, ceilingSetBy } = ceilings[name];
    const shareOfCeiling = round(achievedTps / ceilingTps, 3);
    const operation: OperationResult = {
      calls,
      throttled: input.stats[name]?.throttled ?? 0,
      budgetTps: budgetOf[name],
      achievedTps: round(achievedTps, 1),
      activeSeconds: round(activeSeconds),
      shareOfBudget: round(achievedTps / budgetOf[name], 3),
      ceilingTps: round(ceilingTps, 1),
      shareOfCeiling,
      ceilingSetBy,
      limitedBy: boundOf({ shareOfCeiling, ceilingSetBy }, input.load),
    };
    return [name, operation] as const;
  });
  return Object.fromEntries(entries) as Record<OperationName, OperationResult>;
}

type SweepRunOptions = Omit<SweepOptions, 'cursor' | 'startingCounts' | 'startingProgress' | 'report'>;

const STATE_TABLE = 'schedule-hygiene-bench-state';
const TOMBSTONE_TABLE = 'schedule-hygiene-bench-tombstones';

/** Tombstones kept in this process only: for the second sweep's measurement (see secondSweep). */
function acceptedTombstones(): TombstoneWriter {
  let written = 0;
  return {
    write: async () => {
      written += 1;
      return { key: `memory-${written}` };
    },
    settle: () => {},
    flush: async () => {},
  };
}

async function createTombstoneTable(
  dynamodb: DynamoDBClient,
  kms: KMSClient,
): Promise<(clock: () => Date) => TombstoneWriter> {
  // The MAC key that certifies each store's signing key (one GenerateMac per store), as deployed.
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }),
  );
  const keyArn = KeyMetadata?.Arn ?? '';
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TOMBSTONE_TABLE,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return (clock) =>
    createDynamoTombstoneStore(dynamodb, {
      tableName: TOMBSTONE_TABLE,
      tableArn: tableArnFor(keyArn, TOMBSTONE_TABLE),
      mac: { kms, keyId: keyArn },
      clock,
    });
}

async function createStateTable(dynamodb: DynamoDBClient): Promise<(clock: () => Date) => SweepState> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: STATE_TABLE,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // A fresh memory per sweep, as the handler makes one per invocation (its write queue is flushed at the end).
  return (clock) => ({
    lease: createDynamoLeaseStore(dynamodb, STATE_TABLE),
    memory: createDynamoMemory(dynamodb, { tableName: STATE_TABLE, clock }),
  });
}

/**
 * One whole sweep: the bare sweep() core, or, with a state table, the run that wraps it with the
 * lease and the memory of earlier lookups (one invocation: the bench has no deadline to hand off at).
 */
async function sweepOnce(
  deps: {
    scheduler: SchedulerClient;
    cloudwatch: CloudWatchClient;
    clock: () => Date;
    log: Logger;
    tombstones: TombstoneWriter;
    protection?: ProtectionCheck;
    state?: SweepState;
  },
  options: SweepRunOptions,
): Promise<SweepSummary> {
  if (!deps.state) return sweep(deps, options);
  const result = await runSweep(deps, {
    options,
    request: {},
    scope: SweepScope.configured,
    leaseMs: 60 * 60_000,
    recall: true,
    remember: true,
  });
  if (result.status !== RunStatus.finished) throw new Error(`Sweep run ended as ${result.status}`);
  return result;
}

/**
 * Moves the clock so some pending schedules become due, then sweeps the otherwise unchanged
 * population again: only those should be looked up, and only those deleted.
 */
async function secondSweep(
  emulator: EmulatorProcess,
  options: BenchOptions,
  deps: {
    scheduler: SchedulerClient;
    cloudwatch: CloudWatchClient;
    log: BenchLogger;
    meter: RequestMeter;
    state: (clock: () => Date) => SweepState;
    sweepOptions: SweepRunOptions;
  },
): Promise<SecondSweepResult> {
  const advanced = await emulator.request<{ becameDue: number; carriedOver: number }>({
    command: 'advanceClock',
    ms: options.advanceHours * 3_600_000,
    graceMinutes: options.graceMinutes,
  });
  const clock = await emulatorClock(emulator);
  await emulator.request({ command: 'resetStats' });
  deps.meter.reset();
  const emulatorCpuBefore = await emulator.request<NodeJS.CpuUsage>({ command: 'cpu' });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const state = deps.state(clock);
  const summary = await sweepOnce(
    {
      scheduler: deps.scheduler,
      cloudwatch: deps.cloudwatch,
      clock,
      log: deps.log,
      // The second sweep measures lookups answered from memory. Its few deletions keep their
      // tombstones in memory: a tombstone write to the one loaded emulator process can outlast the
      // sweep's 100 ms re-read rule, and the re-reads it would cause are not what this sweep measures.
      tombstones: acceptedTombstones(),
      state,
    },
    deps.sweepOptions,
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuFigures(process.cpuUsage(cpuBefore), deps.meter.windows());
  const emulatorCpu = cpuSince(
    emulatorCpuBefore,
    await emulator.request<NodeJS.CpuUsage>({ command: 'cpu' }),
  );
  const stats = await emulator.request<OperationCounts>({ command: 'stats' });
  const verification = await emulator.request<Verification>({
    command: 'verifySecond',
    keptAtDeparture: deps.log.takeKeptAtDeparture(),
  });
  const listCalls = stats[Operation.list]?.calls ?? 0;
  const getCalls = stats[Operation.get]?.calls ?? 0;
  const listWindow = deps.meter.windows()[Operation.list];
  const listRoundTripMs =
    listWindow && listWindow.settled > 0 ? listWindow.roundTripMs / listWindow.settled : 0;
  // Counted from the sweep's own tally, not from requests: re-reads before deletes depend on how
  // busy the machine is, which schedules were looked up does not.
  const lookedUp = summary.scanned - summary.recalled - summary.protected;
  return {
    seconds: round(seconds),
    advancedHours: options.advanceHours,
    becameDue: advanced.becameDue,
    becameDueDuringSweep: verification.becameDueDuringSweep ?? 0,
    carriedOver: advanced.carriedOver,
    getScheduleCalls: getCalls,
    schedulesLookedUp: lookedUp,
    rereads: getCalls - lookedUp,
    lookedUpOnlyDue:
      lookedUp >= advanced.becameDue + advanced.carriedOver &&
      lookedUp <= advanced.becameDue + advanced.carriedOver + (verification.becameDueDuringSweep ?? 0),
    listScheduleCalls: listCalls,
    listSchedulesPerSecond: round(listCalls / seconds, 1),
    listShareOfBudget: round(listCalls / seconds / options.listTps, 3),
    listRoundTripMs: round(listRoundTripMs, 1),
    listRoundTripCeilingShare:
      listRoundTripMs > 0 ? round(Math.min(1, 1000 / listRoundTripMs / options.listTps), 3) : 0,
    listInFlightShare: round((listWindow?.inFlightMs ?? 0) / (seconds * 1000), 3),
    listLookaheadPages: LIST_LOOKAHEAD_PAGES,
    emulatorCpuSeconds: round(emulatorCpu, 3),
    emulatorCpuMsPerPage: listCalls > 0 ? round((emulatorCpu * 1000) / listCalls, 2) : 0,
    deleteScheduleCalls: stats[Operation.delete]?.calls ?? 0,
    recalled: summary.recalled,
    cpuSeconds: cpu.cpuSeconds,
    requestsSent: cpu.requestsSent,
    cpuMsPerRequest: cpu.cpuMsPerRequest,
    memory: { ...state.memory.stats },
    correctness: judge(verification, summary.complete, summary.skipped.staleAtDeparture ?? 0),
  };
}
