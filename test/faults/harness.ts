// The randomized fault test of the sweep handler: one seed gives one scenario (a mixed population, a
// fault schedule over every service the sweep touches, a simulated application, deadlines and
// kills); the scenario runs the real handler (src/handlers/sweep.ts) through the real SDK against
// the emulator, playing Lambda (continuations, duplicated async deliveries, killed invocations, the
// next scheduled tick), and afterwards checks the invariants of issue 8 against the emulator's own
// record of what it applied. Shared by test/faults/sweep-faults.test.ts and scripts/soak.ts.
import { type CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ListSchedulesCommand, type SchedulerClient, TagResourceCommand } from '@aws-sdk/client-scheduler';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import fc from 'fast-check';
import type { ApplicationRule, AppliedEntry, FaultConfig, FaultRule } from '../../scripts/emulator/faults.ts';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { type RunningEmulator, startEmulator } from '../../scripts/emulator/server.ts';
import { MAX_LISTING_RESTARTS } from '../../src/aws/budget.ts';
import {
  type ClientOptions,
  createCloudWatchClient,
  createDynamoDbClient,
  createKmsClient,
  createLambdaClient,
  createSchedulerClient,
  createServiceQuotasClient,
} from '../../src/aws/clients.ts';
import { readCensusConfig } from '../../src/census/config.ts';
import type { CensusRunResult } from '../../src/census/run.ts';
import { CENSUS_LEASE_KEY } from '../../src/census/run.ts';
import { createCensusHandler } from '../../src/handlers/census.ts';
import { createSweepHandler, type SweepResponse, sweepSchedulerClient } from '../../src/handlers/sweep.ts';
import type { LogFields, Logger } from '../../src/log.ts';
import { PROTECT_TAG_KEY, PROTECT_TAG_VALUE, protectNames } from '../../src/protect/protection.ts';
import { CLOCK_SKEW_BOUND_MS } from '../../src/state/lease.ts';
import { readSweepConfig, type SweepConfig } from '../../src/sweep/config.ts';
import { scheduledEvent } from '../support/scheduled-event.ts';
import { oracleFinished, type RecordedDefinition } from './oracle.ts';
import { deletedDespiteProtection, lostUpdates, type ProtectionChange } from './races.ts';

export const STATE_TABLE = 'faults-sweep-state';
export const TOMBSTONE_TABLE = 'faults-sweep-tombstones';
export const FUNCTION_NAME = 'faults-sweep';
export const NAMESPACE = 'FaultTest';
const SCHEDULED_EVENT = scheduledEvent();
const ACCOUNT_ID = '123456789012';
const TARGET_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:faults-target`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/faults-scheduler`;

/** The clients' request timeout in these tests, and a late answer just past it (the 10 s / 11 s of production, scaled). */
export const REQUEST_TIMEOUT_MS = 600;
export const LATE_MS = 700;
/**
 * The documented race window (docs/guarantees.md "What the sweeper guarantees": one request plus at most
 * 100 ms): an application change that lands after the sweeper's lookup may be deleted when the
 * delete was sent at most this long after that lookup's answer came back. Both moments are taken at
 * the client, so a loaded machine's slow requests do not blur it; the slack covers timer rounding.
 */
export const RACE_WINDOW_MS = 100;
const RACE_SLACK_MS = 30;
/** After the deadline signal an invocation has this long (real time) before Lambda kills it. */
const HARD_DEADLINE_MS = 1_500;
const MAX_INVOCATIONS = 40;

export interface Scenario {
  seed: number;
  now: string;
  population: { count: number; groups: string[]; boundary: number };
  settings: Record<string, string>;
  graceMinutes: number;
  keepDisabled: boolean;
  faults: FaultConfig;
  /** Pages each invocation lists before its deadline signal. */
  pagesPerInvocation: number;
  /**
   * Per invocation (by index), a crash (Lambda kills the process) once it has sent this many
   * requests: counted in work rather than time, so a seed replays the same crash.
   */
  crashes: Record<number, number>;
  /**
   * What production meets besides faults (drawn from the seed on a stream of its own, so the rest of
   * a seed's scenario is what it was before this was added): ordinary slowness, operators protecting
   * schedules while the sweep runs, and more application changes. Absent: none of it.
   */
  production?: Production;
}

export interface Production {
  /** Latency rules: Scheduler's ListSchedules, GetSchedule, DeleteSchedule; DynamoDB's writes. */
  slowness: FaultRule[];
  /** More application updates, recreates and deletes around the sweep's reads. */
  application: ApplicationRule[];
  /** Share of the schedules the sweep looks up whose name an operator protects (restore --keep) right after the lookup. */
  protectShare: number;
  /** Share of the schedules the sweep looks up whose group an operator tags protected right after the lookup. */
  tagShare: number;
}

const SCHEDULER_OPS = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'];
const DYNAMO_OPS = ['PutItem', 'UpdateItem', 'DeleteItem', 'GetItem', 'BatchGetItem', 'BatchWriteItem'];

type Kind = FaultRule['kind'];
const NETWORK_KINDS: Kind[] = ['throttle', 'error', 'reset-before', 'reset', 'late', 'error-after'];
const share = (min: number, max: number) => fc.double({ min, max, noNaN: true });

/** Per service: the operations the sweep sends, the faults that fit, and how often to strike. */
const FAULT_TEMPLATES: Record<
  string,
  { operations: string[]; kinds: Kind[]; probability: fc.Arbitrary<number>; times?: fc.Arbitrary<number> }
> = {
  scheduler: {
    operations: SCHEDULER_OPS,
    kinds: [...NETWORK_KINDS, 'latency', 'reject-token'],
    probability: share(0.02, 0.25),
  },
  // The state table sees few requests per run (lease, memory): strike them often, a few times.
  dynamodb: {
    operations: DYNAMO_OPS,
    kinds: NETWORK_KINDS,
    probability: share(0.1, 0.8),
    times: fc.integer({ min: 1, max: 3 }),
  },
  lambda: {
    operations: ['Invoke'],
    kinds: ['duplicate', 'duplicate', 'reset', 'error-after', 'throttle', 'late'],
    probability: share(0.2, 1),
    times: fc.integer({ min: 1, max: 2 }),
  },
  // One strike at most: the SDK's retries then deliver the metrics (perhaps twice).
  cloudwatch: {
    operations: ['PutMetricData'],
    kinds: ['throttle', 'error', 'reset', 'error-after'],
    probability: share(0.2, 1),
    times: fc.constant(1),
  },
};

const ruleArbitrary: fc.Arbitrary<FaultRule> = fc
  .constantFrom('scheduler', 'scheduler', 'scheduler', 'dynamodb', 'dynamodb', 'lambda', 'cloudwatch')
  .chain((service) => {
    const template = FAULT_TEMPLATES[service]!;
    return fc
      .record({
        service: fc.constant(service),
        operation: fc.constantFrom(...template.operations),
        kind: fc.constantFrom(...template.kinds),
        probability: template.probability,
        times: template.times ?? fc.constant(undefined),
        delayMs: fc.integer({ min: 5, max: 120 }),
      })
      .map(({ times, delayMs, ...rule }): FaultRule => {
        const shaped: FaultRule = { ...rule, ...(times === undefined ? {} : { times }) };
        if (rule.kind === 'latency')
          return { ...shaped, delayMs, probability: Math.min(1, rule.probability * 3) };
        // A rejected NextToken only means something on a continuation page.
        if (rule.kind === 'reject-token') return { ...shaped, operation: 'ListSchedules', times: 1 };
        return shaped;
      });
  });

const applicationArbitrary: fc.Arbitrary<ApplicationRule> = fc.oneof(
  fc.record({
    action: fc.constantFrom('update', 'recreate', 'delete') as fc.Arbitrary<ApplicationRule['action']>,
    service: fc.constant('scheduler'),
    operation: fc.constant('GetSchedule'),
    when: fc.constant('after' as const),
    probability: fc.double({ min: 0.05, max: 0.3, noNaN: true }),
    delayMs: fc.constantFrom(0, 0, 20, 150, 400),
  }),
  fc.record({
    action: fc.constantFrom('update', 'recreate') as fc.Arbitrary<ApplicationRule['action']>,
    service: fc.constant('scheduler'),
    operation: fc.constant('DeleteSchedule'),
    when: fc.constant('before' as const),
    probability: fc.double({ min: 0.05, max: 0.3, noNaN: true }),
  }),
);

/**
 * Slowness below the clients' request timeout (REQUEST_TIMEOUT_MS): a slow service, not a fault.
 * Some pages slow, every lookup and delete a little slow or a few of them slower, DynamoDB's writes
 * (tombstones, memory, the lease) slow.
 */
const slownessArbitrary: fc.Arbitrary<FaultRule[]> = fc
  .record({
    pages: fc.option(fc.record({ probability: share(0.2, 1), delayMs: fc.integer({ min: 100, max: 400 }) }), {
      nil: undefined,
    }),
    lookups: fc.option(
      fc.record({ probability: share(0.05, 1), delayMs: fc.integer({ min: 20, max: 350 }) }),
      {
        nil: undefined,
      },
    ),
    deletes: fc.option(
      fc.record({ probability: share(0.05, 1), delayMs: fc.integer({ min: 20, max: 350 }) }),
      {
        nil: undefined,
      },
    ),
    writes: fc.option(fc.record({ probability: share(0.1, 1), delayMs: fc.integer({ min: 20, max: 250 }) }), {
      nil: undefined,
    }),
  })
  .map(({ pages, lookups, deletes, writes }) => [
    ...(pages
      ? [{ kind: 'latency' as const, service: 'scheduler', operation: 'ListSchedules', ...pages }]
      : []),
    ...(lookups
      ? [{ kind: 'latency' as const, service: 'scheduler', operation: 'GetSchedule', ...lookups }]
      : []),
    ...(deletes
      ? [{ kind: 'latency' as const, service: 'scheduler', operation: 'DeleteSchedule', ...deletes }]
      : []),
    ...(writes
      ? ['BatchWriteItem', 'PutItem', 'UpdateItem'].map((operation) => ({
          kind: 'latency' as const,
          service: 'dynamodb',
          operation,
          ...writes,
        }))
      : []),
  ]);

const productionArbitrary: fc.Arbitrary<Production> = fc.record({
  slowness: slownessArbitrary,
  application: fc.array(
    fc.record({
      action: fc.constantFrom('update', 'recreate', 'delete') as fc.Arbitrary<ApplicationRule['action']>,
      service: fc.constant('scheduler'),
      operation: fc.constant('GetSchedule'),
      when: fc.constant('after' as const),
      probability: fc.double({ min: 0.05, max: 0.4, noNaN: true }),
      delayMs: fc.constantFrom(0, 50, 90, 130, 310, 1_000),
    }),
    { minLength: 0, maxLength: 2 },
  ),
  protectShare: fc.constantFrom(0, 0.1, 0.3),
  tagShare: fc.constantFrom(0, 0, 0.05, 0.2),
});

function scenarioArbitrary(seed: number): fc.Arbitrary<Scenario> {
  return fc.record({
    seed: fc.constant(seed),
    // Spread over a year so zones, DST changes and month ends all come up.
    now: fc
      .integer({ min: 0, max: 365 * 24 * 4 })
      .map((quarterHours) => new Date(Date.UTC(2026, 0, 1) + quarterHours * 900_000).toISOString()),
    population: fc.record({
      count: fc.integer({ min: 5, max: 24 }),
      groups: fc.constantFrom(['default'], ['default', 'team-a'], ['team-a', 'team-b', 'default']),
      boundary: fc.integer({ min: 0, max: 4 }),
    }),
    settings: fc.record({
      SWEEP_LIST_TPS: fc.constantFrom('1000', '10'),
      SWEEP_GET_TPS: fc.constantFrom('1000', '100'),
      SWEEP_DELETE_TPS: fc.constantFrom('1000', '100'),
      SWEEP_INCREMENTAL: fc.constantFrom('true', 'false'),
    }),
    graceMinutes: fc.constantFrom(60, 60, 0, 5),
    keepDisabled: fc.boolean(),
    faults: fc.record({
      seed: fc.constant(seed),
      record: fc.constant(true),
      lateMs: fc.constant(LATE_MS),
      rules: fc.array(ruleArbitrary, { minLength: 0, maxLength: 6 }),
      application: fc.array(applicationArbitrary, { minLength: 0, maxLength: 2 }),
      tokens: fc.option(fc.constantFrom({ maxUses: 1 }, { maxAgeMs: 30 * 60_000 }, { maxUses: 2 }), {
        nil: undefined,
      }),
    }),
    pagesPerInvocation: fc.integer({ min: 1, max: 3 }),
    crashes: fc.dictionary(fc.integer({ min: 0, max: 4 }).map(String), fc.integer({ min: 1, max: 60 }), {
      maxKeys: 2,
    }) as fc.Arbitrary<Record<number, number>>,
  }) as fc.Arbitrary<Scenario>;
}

/** The scenario a seed stands for: the same seed always gives the same scenario. */
export function scenarioFor(seed: number, overrides: Partial<Scenario> = {}): Scenario {
  const [scenario] = fc.sample(scenarioArbitrary(seed), { seed, numRuns: 1 });
  const [production] = fc.sample(productionArbitrary, { seed: seed ^ 0x5eed16, numRuns: 1 });
  const faults = { ...scenario!.faults };
  if (faults.tokens === undefined) delete faults.tokens;
  return { ...scenario!, faults, production: production!, ...overrides };
}

/** One emulator and its base clients, reused across scenarios (reset between them). */
export interface World {
  emulator: RunningEmulator;
  base: InvocationClients;
  /** The Scheduler client the sweep is deployed with (sweepSchedulerClient) for this configuration, warmed up. */
  sweepScheduler(config: SweepConfig): Promise<SchedulerClient>;
  /** The tombstone MAC key (HMAC_256) the sweep MACs its tombstones with. */
  macKey: string;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const emulator = await startEmulator();
  const options: ClientOptions = {
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  };
  // Wired as src/handlers/sweep.ts wires them: Scheduler and Lambda without SDK retries, DynamoDB
  // and CloudWatch with the SDK's.
  const base = {
    scheduler: createSchedulerClient({ ...options, maxAttempts: 1 }),
    cloudwatch: createCloudWatchClient(options),
    dynamodb: createDynamoDbClient(options),
    kms: createKmsClient(options),
    lambda: createLambdaClient({ ...options, maxAttempts: 1 }),
    serviceQuotas: createServiceQuotasClient(options),
  };
  // Warm up: a client's first request resolves its endpoint and credentials, slowly enough on a
  // loaded machine to pass for a timeout.
  await Promise.allSettled([
    base.scheduler.send(new ListSchedulesCommand({ MaxResults: 1 })),
    base.cloudwatch.send(new ListMetricsCommand({ Namespace: NAMESPACE })),
    base.dynamodb.send(new ListTablesCommand({})),
    base.lambda.send(new InvokeCommand({ FunctionName: 'warm-up', InvocationType: 'DryRun' })),
  ]);
  emulator.services.lambda.reset();
  // One per socket-pool size (the pool is sized from the concurrency): built as deployed, with the
  // scaled request timeout.
  const sweepClients = new Map<number, SchedulerClient>();
  return {
    emulator,
    base,
    async sweepScheduler(config) {
      let client = sweepClients.get(config.concurrency);
      if (!client) {
        client = sweepSchedulerClient(config, options);
        sweepClients.set(config.concurrency, client);
        await client.send(new ListSchedulesCommand({ MaxResults: 1 })).catch(() => undefined);
      }
      return client;
    },
    macKey: emulator.services.kms.createHmacKey('123456789012', 'us-east-1'),
    async close() {
      for (const client of Object.values(base)) client.destroy();
      for (const client of sweepClients.values()) client.destroy();
      await emulator.close();
    },
  };
}

interface LogLine {
  tick: number;
  invocation: number;
  level: string;
  message: string;
  fields: LogFields;
}

interface InvocationReport {
  index: number;
  event: 'scheduled' | 'continuation';
  duplicate: boolean;
  killed: boolean;
  threw?: string;
  result?: SweepResponse;
  /** The census's answer, for census scenarios. */
  censusResult?: CensusRunResult;
  /** What the handler returned, before its runner reads it as a sweep or census result. */
  raw?: unknown;
  /** Applied-record position when it started and ended. */
  fromSeq: number;
  toSeq: number;
  /** Run id this invocation would take a fresh lease under. */
  candidateRunId: string;
  /** The run it belongs to: its continuation's, or the one it would start. */
  runId: string;
  /** Emulator time when it started and when it ended (or was killed). */
  startedAt: number;
  endedAt: number;
  /** A killed invocation: the sweep lease it left behind (the run, and whether it carries a checkpoint). */
  leftLease?: { runId: string | undefined; checkpoint: boolean; ended: boolean };
}

/** The invariants of issue 8, as this harness checks them. */
export const Invariant = {
  /** No schedule deleted unless the oracle says it was finished when the delete reached Scheduler (or a change inside the documented race window). */
  liveDelete: 'live-delete',
  /** Every applied delete has its tombstone written before it. */
  tombstoneFirst: 'tombstone-first',
  /** No record claims a deletion that was not applied. */
  falseClaim: 'false-claim',
  /** A run's reported totals equal what the emulator applied during the run (or say by how much they are uncertain). */
  totals: 'totals',
  /** An invocation that ends never leaves the lease held, and never reports itself as the holder. */
  lease: 'lease',
  /** At most one metrics publication per run; exactly one, with its totals, when it ends. */
  metricsOnce: 'metrics-once',
  /** A refused NextToken restarts the listing (at most MAX_LISTING_RESTARTS times per invocation) instead of failing the run. */
  tokenRestart: 'token-restart',
  /**
   * After a killed invocation, the next run resumes the sweep from the checkpoint it left, never
   * starting over; but never a sweep marked ended (its metrics may already be published).
   */
  resume: 'resume',
  /**
   * No delete removes an application's update or recreate that landed before the read the delete
   * rests on, or more than the race window after it (test/faults/races.ts).
   */
  lostUpdate: 'lost-update',
  /**
   * No delete of a schedule whose name was protected before the delete's read of it, or whose group
   * was tagged protected more than PROTECTION_MAX_AGE_MS before the delete (test/faults/races.ts).
   */
  protection: 'protection',
  /** The harness itself failed (a bug in the test, or a handler that never settles). */
  harness: 'harness',
} as const;
export type Invariant = (typeof Invariant)[keyof typeof Invariant];

export interface Violation {
  invariant: Invariant;
  message: string;
}

export interface ScenarioOutcome {
  seed: number;
  violations: Violation[];
  invocations: InvocationReport[];
  deletes: number;
  raced: number;
  durationMs: number;
  /** Protections an operator added while the sweep ran (names and tags), acknowledged. */
  protections?: number;
  /** Application updates, recreates and deletes that landed. */
  applicationChanges?: number;
}

/** One request as the product sent it (emulator time, ms): when it left and when its answer came. */
interface ClientSend {
  /** The invocation (by index) that sent it. */
  invocation: number;
  operation: string;
  /** group/name for Scheduler schedule requests. */
  key: string;
  sentAt: number;
  settledAt?: number;
  ok?: boolean;
  /** It carried a NextToken and was answered ValidationException (a refused token). */
  refusedToken?: boolean;
}

/** A kill switch for one invocation: after it trips, nothing of the invocation reaches the world. */
function killable<T extends { send: (...args: never[]) => Promise<unknown> }>(
  client: T,
  state: {
    invocation: number;
    killed: boolean;
    sending: number;
    sent: number;
    log: ClientSend[];
    now: () => number;
  },
  /** Runs on each delivered answer before the caller sees it (an operator acting right then). */
  afterAnswer?: (operation: string, input: Record<string, unknown>) => Promise<void>,
): T {
  const never = () => new Promise<never>(() => undefined);
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (...args: never[]) => {
        if (state.killed) return never();
        state.sent += 1;
        state.sending += 1;
        const command = args[0] as unknown as {
          constructor: { name: string };
          input?: { Name?: string; GroupName?: string; NextToken?: string; ResourceArn?: string };
        };
        // A group's tags (ListTagsForResource) are keyed `<group>/*`.
        const taggedGroup = /:schedule-group\/(.+)$/.exec(command.input?.ResourceArn ?? '')?.[1];
        const entry: ClientSend = {
          invocation: state.invocation,
          operation: command.constructor.name.replace(/Command$/, ''),
          key:
            taggedGroup === undefined
              ? scheduleKey(command.input?.GroupName, command.input?.Name)
              : `${taggedGroup}/*`,
          sentAt: state.now(),
        };
        state.log.push(entry);
        const sent = target.send(...args);
        // The answer as the product sees it: after the operator's action, if any (so `settledAt` is
        // when the product got the answer, not when the client did).
        const answered = afterAnswer
          ? sent.then(async (value) => {
              if (!state.killed) await afterAnswer(entry.operation, command.input ?? {});
              return value;
            })
          : sent;
        void answered.then(
          () => {
            state.sending -= 1;
            entry.settledAt = state.now();
            entry.ok = true;
          },
          (error: unknown) => {
            state.sending -= 1;
            entry.settledAt = state.now();
            entry.ok = false;
            entry.refusedToken =
              command.input?.NextToken !== undefined &&
              (error as { name?: string } | undefined)?.name === 'ValidationException';
          },
        );
        return answered.then(
          (value) => (state.killed ? never() : value),
          (error: unknown) => (state.killed ? never() : Promise.reject(error)),
        );
      };
    },
  });
}

/** Seeds the population: the emulator's synthesizer plus schedules within seconds of finishing. */
function seedPopulation(world: World, scenario: Scenario): void {
  const { scheduler } = world.emulator.services;
  scheduler.synthesize({
    count: scenario.population.count,
    seed: scenario.seed,
    groups: scenario.population.groups,
    graceMinutes: scenario.graceMinutes,
    namePrefix: 'syn-',
  });
  const now = world.emulator.plane.now().getTime();
  const boundary: SeedDefinition[] = [];
  for (let index = 0; index < scenario.population.boundary; index += 1) {
    // Finished from now - 20 s to now + 20 s: some flip while the sweep runs.
    const eventAge = 60 + ((scenario.seed + index * 7) % 5) * 60;
    const window = index % 3 === 0 ? 5 : 0;
    const offset = (((scenario.seed * 31 + index * 13) % 41) - 20) * 1000;
    const at = now + offset - 60_000 - window * 60_000 - eventAge * 1000 - scenario.graceMinutes * 60_000;
    const group = scenario.population.groups[index % scenario.population.groups.length] ?? 'default';
    boundary.push({
      Name: `edge-${index}`,
      GroupName: group,
      ScheduleExpression: `at(${new Date(Math.floor(at / 1000) * 1000).toISOString().slice(0, 19)})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: window > 0 ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: window } : { Mode: 'OFF' },
      State: index % 4 === 3 ? 'DISABLED' : 'ENABLED',
      Target: {
        Arn: TARGET_ARN,
        RoleArn: ROLE_ARN,
        RetryPolicy: { MaximumEventAgeInSeconds: eventAge, MaximumRetryAttempts: 2 },
      },
    });
  }
  if (boundary.length > 0) scheduler.seed(boundary);
}

async function resetWorld(world: World, scenario: Scenario): Promise<void> {
  const { plane, services } = world.emulator;
  plane.faults.reset();
  services.scheduler.reset();
  services.cloudwatch.reset();
  services.lambda.reset();
  await services.dynamodb.reset();
  await services.dynamodb.createTable(STATE_TABLE, { hash: 'pk' });
  await services.dynamodb.createTable(TOMBSTONE_TABLE, { hash: 'pk', range: 'sk' });
  plane.resetStats();
  plane.controls.errorRates = {};
  plane.controls.throttleRates = {};
  plane.controls.latencyByOperation = {};
  plane.controls.latencyMs = 0;
  plane.setNow(new Date(scenario.now));
}

/** The clients one invocation gets: the world's, behind that invocation's kill switch. */
export interface InvocationClients {
  scheduler: SchedulerClient;
  cloudwatch: CloudWatchClient;
  dynamodb: DynamoDBClient;
  kms: KMSClient;
  lambda: LambdaClient;
  serviceQuotas: ServiceQuotasClient;
}

type HandlerBuilder = (
  clients: InvocationClients,
  log: Logger,
  candidateRunId: string,
) => (
  event: unknown,
  context: { functionName: string; getRemainingTimeInMillis: () => number },
) => Promise<unknown>;

/**
 * Plays Lambda for one scenario: the scheduled event, then every queued continuation (duplicates
 * too), a deadline after `pagesPerInvocation` pages (killed 1.5 s later), crashes after a number of
 * requests, and after a kill the next scheduled event once the lease has expired.
 */
async function playLambda(
  world: World,
  scenario: Scenario,
  functionName: string,
  build: HandlerBuilder,
  sweep: {
    /** The Scheduler client the handler gets (default: the world's base client). */
    scheduler?: SchedulerClient;
    afterAnswer?: (operation: string, input: Record<string, unknown>) => Promise<void>;
    /** Runs before each invocation starts (an operator acting between invocations). */
    beforeInvocation?: (index: number) => Promise<void>;
    /** Record positions at which the harness moved the emulator's clock. */
    clockJumps?: number[];
  } = {},
) {
  const { plane, services } = world.emulator;
  const lines: LogLine[] = [];
  const sends: ClientSend[] = [];
  const invocations: InvocationReport[] = [];
  const queue: { payload: unknown; duplicate: boolean }[] = [{ payload: SCHEDULED_EVENT, duplicate: false }];
  const listCalls = () => plane.stats.get('ListSchedules')?.calls ?? 0;

  while (queue.length > 0 && invocations.length < MAX_INVOCATIONS) {
    const next = queue.shift()!;
    const index = invocations.length;
    const state = {
      invocation: index,
      killed: false,
      sending: 0,
      sent: 0,
      log: sends,
      now: () => plane.now().getTime(),
    };
    const log: Logger = {
      info: (message, fields) => record('info', message, fields),
      warn: (message, fields) => record('warn', message, fields),
      error: (message, fields) => record('error', message, fields),
    };
    function record(level: string, message: string, fields: LogFields = {}) {
      if (state.killed) return;
      // Through JSON, as CloudWatch Logs would keep it.
      lines.push({
        tick: plane.faults.tick(),
        invocation: index,
        level,
        message,
        fields: JSON.parse(JSON.stringify(fields)),
      });
    }
    await sweep.beforeInvocation?.(index);
    const candidateRunId = `run-${scenario.seed}-${index}`;
    const handler = build(
      {
        scheduler: killable(sweep.scheduler ?? world.base.scheduler, state, sweep.afterAnswer),
        cloudwatch: killable(world.base.cloudwatch, state),
        dynamodb: killable(world.base.dynamodb, state),
        kms: killable(world.base.kms, state),
        lambda: killable(world.base.lambda, state),
        serviceQuotas: killable(world.base.serviceQuotas, state),
      },
      log,
      candidateRunId,
    );
    const listedBefore = listCalls();
    let signalledAt: number | undefined;
    const context = {
      functionName: functionName,
      getRemainingTimeInMillis: () => {
        if (signalledAt === undefined && listCalls() - listedBefore >= scenario.pagesPerInvocation) {
          signalledAt = Date.now();
        }
        return signalledAt === undefined
          ? 900_000
          : Math.max(0, HARD_DEADLINE_MS - (Date.now() - signalledAt));
      },
    };
    const report: InvocationReport = {
      index,
      event: index === 0 || next.payload === SCHEDULED_EVENT ? 'scheduled' : 'continuation',
      duplicate: next.duplicate,
      killed: false,
      fromSeq: plane.faults.tick(),
      toSeq: 0,
      candidateRunId,
      runId: continuationRunId(next.payload) ?? candidateRunId,
      startedAt: plane.now().getTime(),
      endedAt: 0,
    };
    const crashAfter = scenario.crashes[index];
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<'killed'>((resolve) => {
      const check = () => {
        const deadlinePassed = signalledAt !== undefined && Date.now() - signalledAt >= HARD_DEADLINE_MS;
        const crashed = crashAfter !== undefined && state.sent >= crashAfter;
        if (deadlinePassed || crashed) {
          state.killed = true;
          resolve('killed');
        } else timer = setTimeout(check, 5);
      };
      check();
    });
    const outcome = await Promise.race([
      handler(next.payload, context).then(
        (result) => ({ result }),
        (error: unknown) => ({ threw: String(error) }),
      ),
      killed,
    ]);
    clearTimeout(timer);
    state.killed = true; // whatever it left running stops reaching the world
    report.toSeq = plane.faults.tick();
    report.endedAt = plane.now().getTime();
    if (outcome === 'killed') report.killed = true;
    else if ('result' in outcome) report.raw = outcome.result;
    else report.threw = outcome.threw;
    invocations.push(report);

    for (const invocation of services.lambda.takeInvocations()) {
      if (invocation.functionName === functionName && invocation.invocationType === 'Event') {
        queue.push({ payload: invocation.payload, duplicate: invocation.duplicate === true });
      }
    }
    if (queue.length === 0 && report.killed) {
      // What the killed invocation had in flight reaches Scheduler before the clock moves on.
      await settled(world, state);
      const lease = (await services.dynamodb.items(STATE_TABLE)).find((item) => item.pk?.S === 'lease#sweep');
      const checkpoint = lease?.checkpoint?.S;
      report.leftLease = {
        runId: lease?.runId?.S,
        checkpoint: checkpoint !== undefined,
        // Marked ended before its metrics went out (src/sweep/checkpoint.ts): not to be resumed.
        ended: checkpoint !== undefined && 'ended' in (JSON.parse(checkpoint) as object),
      };
      // Lambda does not retry (the function is deployed without async retries): the next
      // scheduled tick comes, after the killed run's lease (16 minutes) has expired by more than
      // the clock skew bound.
      plane.setNow(new Date(plane.now().getTime() + 17 * 60_000 + CLOCK_SKEW_BOUND_MS));
      sweep.clockJumps?.push(plane.faults.tick());
      const killedBefore = invocations.filter((entry) => entry.killed).length;
      if (killedBefore <= 3) queue.push({ payload: SCHEDULED_EVENT, duplicate: false });
    }
  }
  // Let late answers and delayed application changes settle before reading the record.
  await settled(world);
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { lines, sends, invocations };
}

/** Runs one sweep scenario and checks every invariant; never throws for a product failure (it reports it). */
export async function runScenario(world: World, scenario: Scenario): Promise<ScenarioOutcome> {
  const started = Date.now();
  const { plane } = world.emulator;
  await resetWorld(world, scenario);
  seedPopulation(world, scenario);

  const config = readSweepConfig({
    SWEEP_STATE_TABLE: STATE_TABLE,
    SWEEP_TOMBSTONE_TABLE: TOMBSTONE_TABLE,
    SWEEP_TOMBSTONE_MAC_KEY: world.macKey,
    SWEEP_SAFETY_MARGIN_SECONDS: '5',
    SWEEP_GRACE_MINUTES: String(scenario.graceMinutes),
    SWEEP_KEEP_DISABLED: String(scenario.keepDisabled),
    METRICS_NAMESPACE: NAMESPACE,
    ...scenario.settings,
  });
  // The Scheduler client as deployed (sweepSchedulerClient: its socket pool, the lean request path,
  // one SDK attempt), warmed up before the faults are set.
  const scheduler = await world.sweepScheduler(config);
  const { production } = scenario;
  plane.faults.configure({
    ...scenario.faults,
    rules: [...(scenario.faults.rules ?? []), ...(production?.slowness ?? [])],
    application: [...(scenario.faults.application ?? []), ...(production?.application ?? [])],
  });
  const protections: ProtectionChange[] = [];
  const clockJumps: number[] = [];
  const { lines, sends, invocations } = await playLambda(
    world,
    scenario,
    FUNCTION_NAME,
    (clients, log, candidateRunId) =>
      createSweepHandler({
        scheduler: clients.scheduler,
        cloudwatch: clients.cloudwatch,
        dynamodb: clients.dynamodb,
        kms: clients.kms,
        lambda: clients.lambda,
        config,
        clock: () => plane.now(),
        log,
        newRunId: () => candidateRunId,
      }),
    {
      scheduler,
      clockJumps,
      ...(production && (production.protectShare > 0 || production.tagShare > 0)
        ? {
            afterAnswer: operatorProtecting(world, scenario.seed, production, protections),
            beforeInvocation: async (index: number) => {
              // Between invocations (a continuation, the next tick): a tag every later read sees.
              const group = scenario.population.groups[index % scenario.population.groups.length];
              if (index === 0 || group === undefined || production.tagShare === 0) return;
              if (protections.some((change) => change.kind === 'tag' && change.group === group)) return;
              if (draw(scenario.seed, 'tag-between', `${index}`) >= production.tagShare * 2) return;
              await tagGroup(world, group, protections);
            },
          }
        : {}),
    },
  );
  for (const invocation of invocations) {
    if (invocation.raw !== undefined) invocation.result = invocation.raw as SweepResponse;
    // A scheduled run that resumed a killed one's checkpoint belongs to that run.
    const runId = (invocation.result as { runId?: unknown } | undefined)?.runId;
    if (typeof runId === 'string') invocation.runId = runId;
  }

  const violations = await checkInvariants(world, scenario, lines, sends, invocations);
  const applied = plane.faults.applied();
  // When the product got a read's answer: after the operator's action on it, if there was one.
  const delivered = (read: AppliedEntry) =>
    sends
      .filter(
        (send) =>
          send.operation === 'GetSchedule' &&
          send.ok === true &&
          send.key === scheduleKey(read.detail?.group, read.detail?.name) &&
          send.sentAt <= read.at &&
          (send.settledAt ?? Number.NEGATIVE_INFINITY) >= (read.answeredAt ?? read.at),
      )
      .reduce<number | undefined>(
        (earliest, send) => Math.min(earliest ?? Number.POSITIVE_INFINITY, send.settledAt ?? 0),
        undefined,
      );
  for (const message of lostUpdates(applied, delivered)) {
    violations.problems.push({ invariant: Invariant.lostUpdate, message });
  }
  for (const message of deletedDespiteProtection(applied, protections, STATE_TABLE, clockJumps)) {
    violations.problems.push({ invariant: Invariant.protection, message });
  }
  // A tag acknowledged before an invocation first read its group's tags is in every read that
  // invocation makes: none of its deletes in that group may happen.
  for (const tag of protections.filter((change) => change.kind === 'tag')) {
    for (const remove of applied.filter(
      (entry) =>
        entry.actor === 'client' &&
        entry.operation === 'DeleteSchedule' &&
        entry.applied &&
        entry.seq > tag.seq &&
        String(entry.detail?.group ?? 'default') === tag.group,
    )) {
      const key = scheduleKey(remove.detail?.group, remove.detail?.name);
      const deleteSend = sends
        .filter((send) => send.operation === 'DeleteSchedule' && send.key === key && send.sentAt <= remove.at)
        .at(-1);
      const firstRead = sends.find(
        (send) =>
          deleteSend !== undefined &&
          send.invocation === deleteSend.invocation &&
          send.operation === 'ListTagsForResource' &&
          send.key === `${tag.group}/*`,
      );
      if (firstRead && firstRead.sentAt > tag.at) {
        violations.problems.push({
          invariant: Invariant.protection,
          message: `${key}: deleted by invocation ${deleteSend?.invocation}, whose first read of the group's tags was sent ${firstRead.sentAt - tag.at} ms after its protect tag was acknowledged`,
        });
      }
    }
  }
  for (const invocation of invocations) {
    // The harness's own events must be accepted: a refused payload would make every check vacuous.
    if (invocation.threw?.startsWith('InputError')) {
      violations.problems.push({
        invariant: Invariant.harness,
        message: `invocation ${invocation.index} refused its payload: ${invocation.threw}`,
      });
    }
  }
  const deletes = plane.faults
    .applied()
    .filter(
      (entry) => entry.actor === 'client' && entry.operation === 'DeleteSchedule' && entry.detail?.before,
    ).length;
  return {
    seed: scenario.seed,
    violations: violations.problems,
    invocations,
    deletes,
    raced: violations.raced,
    durationMs: Date.now() - started,
    protections: protections.length,
    applicationChanges: applied.filter((entry) => entry.actor === 'application').length,
  };
}

/**
 * An operator protecting schedules while the sweep runs: right after the sweep's lookup of a
 * schedule is answered (before the sweep sees the answer), for a seeded share of the schedules,
 * restore --keep's write of its name (protectNames), or the protect tag on its group. Each is
 * recorded once acknowledged: its record position and emulator time.
 */
function operatorProtecting(
  world: World,
  seed: number,
  production: Production,
  protections: ProtectionChange[],
): (operation: string, input: Record<string, unknown>) => Promise<void> {
  const { plane } = world.emulator;
  const done = new Set<string>();
  return async (operation, input) => {
    if (operation !== 'GetSchedule' || typeof input.Name !== 'string') return;
    const group = typeof input.GroupName === 'string' ? input.GroupName : 'default';
    const name = input.Name;
    const landed = () => ({ seq: plane.faults.tick(), at: plane.now().getTime() });
    if (
      !done.has(`name ${group}/${name}`) &&
      draw(seed, 'protect', `${group}/${name}`) < production.protectShare
    ) {
      done.add(`name ${group}/${name}`);
      try {
        await protectNames(world.base.dynamodb, STATE_TABLE, group, [name]);
        protections.push({ kind: 'name', group, name, ...landed() });
      } catch {
        // Not acknowledged: it may or may not have landed, so nothing is held against the sweep.
      }
    }
    if (!done.has(`tag ${group}`) && draw(seed, 'tag', `${group}/${name}`) < production.tagShare) {
      done.add(`tag ${group}`);
      await tagGroup(world, group, protections);
    }
  };
}

/** The protect tag on a group, recorded once acknowledged (not at all when it failed). */
async function tagGroup(world: World, group: string, protections: ProtectionChange[]): Promise<void> {
  const { plane } = world.emulator;
  try {
    await world.base.scheduler.send(
      new TagResourceCommand({
        ResourceArn: `arn:aws:scheduler:us-east-1:${ACCOUNT_ID}:schedule-group/${group}`,
        Tags: [{ Key: PROTECT_TAG_KEY, Value: PROTECT_TAG_VALUE }],
      }),
    );
    protections.push({ kind: 'tag', group, seq: plane.faults.tick(), at: plane.now().getTime() });
  } catch {
    // Not acknowledged: it may or may not have landed, so nothing is held against the sweep.
  }
}

/** A uniform number in [0, 1) from the seed and a label (FNV-1a): the same choice on every replay. */
function draw(seed: number, label: string, key: string): number {
  let hash = 0x811c9dc5;
  for (const character of `${seed}\u0000${label}\u0000${key}`) {
    hash ^= character.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  hash ^= hash >>> 12;
  return (hash >>> 0) / 2 ** 32;
}

/** Waits (at most 3 s) until every request sent has its answer (or its timeout) and the emulator is idle. */
async function settled(world: World, sender: { sending: number } = { sending: 0 }): Promise<void> {
  const until = Date.now() + 3_000;
  while ((world.emulator.plane.inFlight > 0 || sender.sending > 0) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function continuationRunId(payload: unknown): string | undefined {
  const runId = (payload as { continuation?: { runId?: unknown } } | undefined)?.continuation?.runId;
  return typeof runId === 'string' ? runId : undefined;
}

const scheduleKey = (group: unknown, name: unknown) => `${String(group ?? 'default')}/${String(name)}`;

async function checkInvariants(
  world: World,
  scenario: Scenario,
  lines: LogLine[],
  sends: ClientSend[],
  invocations: InvocationReport[],
): Promise<{ problems: Violation[]; raced: number }> {
  const { plane, services } = world.emulator;
  const problems: Violation[] = [];
  const fail = (invariant: Invariant) => ({
    push: (message: string) => problems.push({ invariant, message }),
  });
  const applied = plane.faults.applied();
  const options = { graceMinutes: scenario.graceMinutes, keepDisabled: scenario.keepDisabled };

  const deletes = applied.filter(
    (entry) => entry.actor === 'client' && entry.operation === 'DeleteSchedule' && entry.detail?.before,
  );
  const keyOf = (entry: AppliedEntry) => scheduleKey(entry.detail?.group, entry.detail?.name);

  // 1. No live schedule deleted, except a change inside the documented race window.
  let raced = 0;
  for (const entry of deletes) {
    const key = keyOf(entry);
    const before = entry.detail?.before as RecordedDefinition;
    if (oracleFinished(before, entry.at, options)) continue;
    // The sweeper may have inspected the schedule more than once (a page listed again): the delete
    // is justified by the latest lookup that saw it finished, if the change came after that lookup
    // and the delete followed it within the window.
    const reads = applied.filter(
      (read) =>
        read.actor === 'client' &&
        read.operation === 'GetSchedule' &&
        read.status === 200 &&
        read.seq < entry.seq &&
        keyOf(read) === key,
    );
    const lastRead = reads
      .filter((read) => oracleFinished(read.detail?.read as RecordedDefinition, entry.at, options))
      .at(-1);
    const changedAfterRead = applied.some(
      (change) =>
        change.actor === 'application' &&
        keyOf(change) === key &&
        lastRead !== undefined &&
        change.seq > lastRead.seq &&
        change.seq < entry.seq,
    );
    // The product's side: when it sent this delete, and when the latest lookup before it came back.
    const deleteSend = sends
      .filter((send) => send.operation === 'DeleteSchedule' && send.key === key && send.sentAt <= entry.at)
      .at(-1);
    const readDone = sends
      .filter(
        (send) =>
          send.operation === 'GetSchedule' &&
          send.key === key &&
          send.ok === true &&
          deleteSend !== undefined &&
          (send.settledAt ?? Number.POSITIVE_INFINITY) <= deleteSend.sentAt,
      )
      .at(-1);
    const gap =
      deleteSend === undefined || readDone?.settledAt === undefined
        ? Number.POSITIVE_INFINITY
        : deleteSend.sentAt - readDone.settledAt;
    if (changedAfterRead && gap <= RACE_WINDOW_MS + RACE_SLACK_MS) {
      raced += 1;
      continue;
    }
    fail('live-delete').push(
      `deleted a live schedule ${key} (${before.ScheduleExpression} ${before.ScheduleExpressionTimezone ?? 'UTC'} ${before.State}) at ${new Date(entry.at).toISOString()}` +
        (lastRead
          ? `; sent ${gap} ms after its last lookup came back${changedAfterRead ? ', changed by the application after a lookup that saw it finished' : ''}`
          : '; no lookup saw it finished') +
        `; trace ${trace(applied, key, entry.at)}`,
    );
  }

  // 2. Every deletion has its tombstone first; no record claims a deletion that was not applied.
  // Tombstones as the sweep logs them: `tombstone` (the definition) before the delete, and
  // `tombstone outcome` (deleted, unknown, notSent or refused) after it.
  const tombstones = lines.filter((line) => line.message === 'tombstone');
  const outcomes = lines.filter((line) => line.message === 'tombstone outcome');
  const deletedKeys = new Set(deletes.map(keyOf));
  for (const entry of deletes) {
    const key = keyOf(entry);
    if (!tombstones.some((line) => tombstoneKey(line) === key && line.tick < entry.seq)) {
      fail('tombstone-first').push(`deleted ${key} without a tombstone written before the delete`);
    }
  }
  const claims = [
    // An older form: one line, written before the delete, that already says `deleted`.
    ...tombstones
      .filter((line) => line.fields.action === 'deleted')
      .map((line) => ({ line, key: tombstoneKey(line) })),
    ...outcomes
      .filter((line) => line.fields.outcome === 'deleted')
      .map((line) => ({ line, key: tombstoneKey(line) })),
  ];
  for (const { key } of claims) {
    if (!deletedKeys.has(key)) {
      fail('false-claim').push(`a tombstone claims ${key} deleted, but no delete of it was applied`);
    }
  }
  // The stored tombstones themselves (the durable record restore reads) make no false claim either.
  for (const item of await world.emulator.services.dynamodb.items(TOMBSTONE_TABLE)) {
    if (item.kind?.S !== 'tombstone' || item.outcome?.S !== 'deleted') continue;
    const key = scheduleKey(item.group?.S, item.name?.S);
    if (!deletedKeys.has(key)) {
      fail('false-claim').push(
        `the stored tombstone of ${key} claims it deleted, but no delete of it was applied`,
      );
    }
  }
  // notSent, refused (every attempt answered with a 4xx) and gone (every attempt answered 404) all
  // say the sweep's delete removed nothing.
  for (const line of outcomes.filter((candidate) =>
    ['notSent', 'refused', 'gone'].includes(String(candidate.fields.outcome)),
  )) {
    const key = tombstoneKey(line);
    const written = tombstones
      .filter((tombstone) => tombstoneKey(tombstone) === key && tombstone.tick < line.tick)
      .at(-1);
    const applied = deletes.some(
      (entry) => keyOf(entry) === key && entry.seq > (written?.tick ?? 0) && entry.seq < line.tick,
    );
    if (applied) {
      fail('false-claim').push(
        `a tombstone says ${key} was ${line.fields.outcome}, but its delete was applied`,
      );
    }
  }

  // 3. Totals: each run that returned finished reports what the emulator applied during the run.
  const finishedResults = invocations.filter(
    (entry) => entry.result?.status === 'finished',
  ) as (InvocationReport & {
    result: Exclude<SweepResponse, { status: 'alreadyRunning' | 'superseded' }>;
  })[];
  for (const entry of finishedResults) {
    const runId = entry.result.runId;
    const first = invocations.find((other) => other.candidateRunId === runId);
    if (!first) continue;
    // Killed invocations included: the run resumed from their checkpoints, and its summary says by
    // how much `deleted` may be short (the checkpoint's deletion allowance) in `uncertain.deleted`.
    const inRun = deletes.filter((del) => del.seq > first.fromSeq && del.seq < entry.toSeq);
    const truth = inRun.length;
    const answers = inRun
      .filter((del) => del.answer !== 'delivered')
      .map((del) => `${keyOf(del)}:${del.answer}`)
      .join(' ');
    const claimed = entry.result.deleted;
    const uncertainty = uncertainDeleted(entry.result);
    if (Math.abs(claimed - truth) > uncertainty) {
      fail('totals').push(
        `invocation ${entry.index} reports deleted=${claimed}, the emulator applied ${truth} deletes in the run` +
          (uncertainty > 0 ? ` (uncertain by ${uncertainty})` : '') +
          (answers ? `; answers not delivered: ${answers}` : ''),
      );
    }
  }

  // 3b. After a kill, the next scheduled run resumes the sweep from the checkpoint the lease carries.
  for (const killed of invocations.filter((entry) => entry.leftLease?.checkpoint)) {
    const next = invocations[killed.index + 1];
    const result = next?.result as { status?: string; runId?: string } | undefined;
    if (next?.event !== 'scheduled' || (result?.status !== 'finished' && result?.status !== 'continuing'))
      continue;
    const resumedRun = result.runId;
    if (killed.leftLease?.ended) {
      if (resumedRun === killed.leftLease.runId) {
        fail('resume').push(
          `invocation ${next.index} resumed run ${resumedRun}, whose sweep had ended (its metrics may be out)`,
        );
      }
    } else if (resumedRun !== killed.leftLease?.runId) {
      fail('resume').push(
        `invocation ${next.index} started run ${resumedRun} instead of resuming run ${killed.leftLease?.runId} from the checkpoint invocation ${killed.index} left`,
      );
    }
  }

  // 4. An invocation that ends (returns or throws) never leaves the lease held unless it handed on.
  const last = invocations.at(-1);
  if (last && !last.killed) {
    const lease = (await services.dynamodb.items(STATE_TABLE)).find((item) => item.pk?.S === 'lease#sweep');
    const until = Number(lease?.leaseUntil?.N ?? 0);
    if (lease && until > plane.now().getTime()) {
      fail('lease').push(
        `the lease is still held by ${lease.runId?.S} after the last invocation ended (${last.result?.status ?? `threw ${last.threw}`})`,
      );
    }
  }
  for (const entry of invocations) {
    if (entry.result?.status === 'alreadyRunning' && entry.result.holder === entry.candidateRunId) {
      fail('lease').push(`invocation ${entry.index} reports alreadyRunning with itself as the holder`);
    }
  }

  // 5. Metrics: at most one publication per run; exactly one, carrying its totals, when it ended.
  for (const { runId, members, stamps } of publicationsPerRun(
    services,
    NAMESPACE,
    'SchedulesDeleted',
    invocations,
  )) {
    const ended = members.find((member) => member.result?.status === 'finished');
    if (stamps.size > 1)
      fail('metrics-once').push(`run ${runId} published its sweep metrics ${stamps.size} times`);
    if (ended?.result?.status === 'finished') {
      const values = [...stamps.values()];
      if (values.length !== 1 || values[0] !== ended.result.deleted) {
        fail('metrics-once').push(
          `run ${runId} ended with deleted=${ended.result.deleted} but published SchedulesDeleted [${values}]`,
        );
      }
    }
  }
  return { problems, raced };
}

/**
 * The invocations of each run, with the run's publications of `metricName` (no dimensions): the
 * value of each, by timestamp. SDK retries of one publication repeat its timestamp, so each distinct
 * timestamp within an invocation of the run is one publication.
 */
function publicationsPerRun(
  services: RunningEmulator['services'],
  namespace: string,
  metricName: string,
  invocations: InvocationReport[],
): { runId: string; members: InvocationReport[]; stamps: Map<number, number> }[] {
  const publications = services.cloudwatch
    .datums({ namespace, metricName })
    .filter((datum) => datum.dimensions.length === 0);
  const runs = new Map<string, InvocationReport[]>();
  for (const entry of invocations) runs.set(entry.runId, [...(runs.get(entry.runId) ?? []), entry]);
  return [...runs].map(([runId, members]) => {
    const stamps = new Map<number, number>();
    for (const datum of publications) {
      const at = datum.timestamp.getTime();
      if (members.some((member) => at >= member.startedAt && at <= member.endedAt)) {
        stamps.set(at, datum.values[0] ?? Number.NaN);
      }
    }
    return { runId, members, stamps };
  });
}

/** What happened to one schedule, compactly: seq actor operation status answer, ms relative to `origin`. */
function trace(applied: AppliedEntry[], key: string, origin: number): string {
  return applied
    .filter((entry) => scheduleKey(entry.detail?.group, entry.detail?.name) === key)
    .map(
      (entry) =>
        `${entry.seq}:${entry.actor}:${entry.operation}:${entry.status}:${entry.answer}@${entry.at - origin}` +
        (entry.answeredAt === undefined ? '' : `/${entry.answeredAt - origin}`),
    )
    .join(' ');
}

function tombstoneKey(line: LogLine): string {
  const { group, name } = line.fields as { group?: string; name?: string };
  return scheduleKey(group, name);
}

/** How far the summary says its deleted count may be off (a field a summary may carry). */
function uncertainDeleted(result: object): number {
  const uncertain = (result as { uncertain?: unknown }).uncertain as Record<string, unknown> | undefined;
  const value = uncertain?.deleted;
  return typeof value === 'number' ? value : 0;
}

/** Runs seeds on `workers` emulators at once; returns every outcome in seed order. */
export async function runSeeds(
  seeds: readonly number[],
  workers: number,
  onOutcome?: (outcome: ScenarioOutcome) => void,
  runner: (world: World, scenario: Scenario) => Promise<ScenarioOutcome> = runScenario,
): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const pending = [...seeds];
  const worlds = await Promise.all(
    Array.from({ length: Math.min(workers, seeds.length) }, () => startWorld()),
  );
  try {
    await Promise.all(
      worlds.map(async (world) => {
        for (let seed = pending.shift(); seed !== undefined; seed = pending.shift()) {
          let outcome: ScenarioOutcome;
          try {
            outcome = await runner(world, scenarioFor(seed));
          } catch (error) {
            outcome = {
              seed,
              violations: [{ invariant: Invariant.harness, message: String(error) }],
              invocations: [],
              deletes: 0,
              raced: 0,
              durationMs: 0,
            };
          }
          outcomes.push(outcome);
          onOutcome?.(outcome);
        }
      }),
    );
  } finally {
    await Promise.all(worlds.map((world) => world.close()));
  }
  return outcomes.sort((a, b) => a.seed - b.seed);
}

export const CENSUS_FUNCTION_NAME = 'faults-census';
const CENSUS_NAMESPACE = 'FaultTestCensus';

/**
 * The same scenario run through the census handler (src/handlers/census.ts) with its lease and
 * continuations: the population is padded with recurring schedules so a census spans pages. Checks:
 * a census that completes publishes, once, a total equal to the emulator's count (give or take the
 * schedules Scheduler removed itself meanwhile); at most one publication per run; the lease free
 * when the last invocation ends; no invocation that reports itself as the lease holder.
 */
export async function runCensusScenario(world: World, scenario: Scenario): Promise<ScenarioOutcome> {
  const started = Date.now();
  const { plane, services } = world.emulator;
  await resetWorld(world, scenario);
  seedPopulation(world, scenario);
  const groups = scenario.population.groups;
  services.scheduler.seed(
    Array.from({ length: scenario.population.count * 8 }, (_, index) => ({
      Name: `bulk-${index}`,
      GroupName: groups[index % groups.length] ?? 'default',
      ScheduleExpression: 'rate(1 day)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN },
    })),
  );
  // The census reads no single schedule: the application's triggers never fire.
  plane.faults.configure({ ...scenario.faults, application: [] });
  const config = readCensusConfig({
    CENSUS_STATE_TABLE: STATE_TABLE,
    CENSUS_LIST_TPS: '1000',
    CENSUS_SAFETY_MARGIN_SECONDS: '5',
    METRICS_NAMESPACE: CENSUS_NAMESPACE,
  });
  const { invocations, sends } = await playLambda(
    world,
    scenario,
    CENSUS_FUNCTION_NAME,
    (clients, log, candidateRunId) =>
      createCensusHandler({
        scheduler: clients.scheduler,
        serviceQuotas: clients.serviceQuotas,
        cloudwatch: clients.cloudwatch,
        dynamodb: clients.dynamodb,
        lambda: clients.lambda,
        config,
        clock: () => plane.now(),
        log,
        newRunId: () => candidateRunId,
      }),
  );
  const problems: Violation[] = [];
  for (const invocation of invocations) {
    if (invocation.raw !== undefined) invocation.censusResult = invocation.raw as CensusRunResult;
    if (invocation.threw?.startsWith('InputError')) {
      problems.push({
        invariant: Invariant.harness,
        message: `census invocation ${invocation.index} refused its payload: ${invocation.threw}`,
      });
    }
    // A refused NextToken (rejected, or expired by use or age) fails a census only once the
    // invocation has restarted its listing as often as it may: the refusals it saw, counted here
    // at the client, must outnumber the restarts allowed.
    if (invocation.threw?.startsWith('ValidationException')) {
      const refusals = sends.filter(
        (send) => send.invocation === invocation.index && send.refusedToken === true,
      ).length;
      if (refusals <= MAX_LISTING_RESTARTS) {
        problems.push({
          invariant: Invariant.tokenRestart,
          message: `census invocation ${invocation.index} failed after ${refusals} refused NextToken(s), fewer than the ${MAX_LISTING_RESTARTS + 1} it must take first: ${invocation.threw}`,
        });
      }
    }
  }
  const applied = plane.faults.applied();
  const truthNow = services.scheduler.count();

  // Totals and metrics, per run.
  for (const { runId, members, stamps } of publicationsPerRun(
    services,
    CENSUS_NAMESPACE,
    'ScheduleCount',
    invocations,
  )) {
    if (stamps.size > 1)
      problems.push({
        invariant: Invariant.metricsOnce,
        message: `census run ${runId} published ScheduleCount ${stamps.size} times`,
      });
    const ended = members.find((member) => member.censusResult?.status === 'complete');
    if (ended?.censusResult?.status !== 'complete') continue;
    const first = members[0]!;
    const removedMeanwhile = applied.filter(
      (entry) => entry.actor === 'service' && entry.seq > first.fromSeq && entry.seq < ended.toSeq,
    ).length;
    const total = ended.censusResult.total;
    if (total < truthNow || total > truthNow + removedMeanwhile) {
      problems.push({
        invariant: Invariant.totals,
        message: `census run ${runId} counted ${total}; the emulator holds ${truthNow} (${removedMeanwhile} removed by Scheduler meanwhile)`,
      });
    }
    const values = [...stamps.values()];
    if (values.length !== 1 || values[0] !== total) {
      problems.push({
        invariant: Invariant.metricsOnce,
        message: `census run ${runId} completed with ${total} but published ScheduleCount [${values}]`,
      });
    }
  }

  // The lease.
  const last = invocations.at(-1);
  if (last && !last.killed) {
    const items = await services.dynamodb.items(STATE_TABLE);
    const lease = items.find((item) => item.pk?.S === CENSUS_LEASE_KEY);
    const until = Number(lease?.leaseUntil?.N ?? 0);
    if (lease && until > plane.now().getTime()) {
      problems.push({
        invariant: Invariant.lease,
        message: `the census lease is still held by ${lease.runId?.S} after the last invocation ended (${last.censusResult?.status ?? `threw ${last.threw}`})`,
      });
    }
  }
  for (const entry of invocations) {
    const result = entry.censusResult;
    if (result?.status === 'alreadyRunning' && result.holder === entry.candidateRunId) {
      problems.push({
        invariant: Invariant.lease,
        message: `census invocation ${entry.index} reports alreadyRunning with itself as the holder`,
      });
    }
  }
  return {
    seed: scenario.seed,
    violations: problems,
    invocations,
    deletes: 0,
    raced: 0,
    durationMs: Date.now() - started,
  };
}
