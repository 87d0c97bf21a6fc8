// The emulator's fault model: faults a real network and a real service produce, injected in the
// dispatch path (server.ts) for every emulated service alike, so it applies to whichever
// implementation answers a service.
//
// - Before the effect (the request is NOT applied): 429 throttle, 500 error, added latency, or the
//   connection reset before the service saw the request.
// - After the effect (the request IS applied): the answer is lost (the socket is destroyed: the
//   client sees a reset), the answer is delayed past the client's timeout, or a 5xx is returned.
// - Duplicated delivery of asynchronous Lambda invokes (InvocationType Event).
// - NextTokens that expire (by age in emulator time, or by number of uses) or are rejected.
// - A simulated application that updates, recreates or deletes a schedule around a sweeper's
//   GetSchedule/DeleteSchedule (the service implements the action: see `simulateApplication`).
// - An append-only record of what the emulator applied, with timestamps and, for deletes, the
//   definition deleted, so tests compare what the product claims with what happened.
//
// Every decision is a pure function of (seed, rule, service, operation, request key, occurrence of
// that key), not of a shared random stream, so a seed replays exactly even when requests arrive in
// a different order (concurrent deletes of different schedules do not shift each other's faults).
import { type EmulatorRequest, MAX_DELAY_MS } from './core.ts';

export const FaultKind = {
  /** Before the effect: 429 (ThrottlingException, or the service's own name for it). */
  throttle: 'throttle',
  /** Before the effect: 500 (InternalServerException, or the service's own name for it). */
  error: 'error',
  /** Before the effect: `delayMs` added, then the request proceeds. */
  latency: 'latency',
  /** Before the effect: the connection is reset; the service never sees the request. */
  resetBefore: 'reset-before',
  /** After the effect: the request is applied, then the connection is reset (the answer is lost). */
  reset: 'reset',
  /** After the effect: the request is applied, the answer is sent `delayMs` (or `lateMs`) later. */
  late: 'late',
  /** After the effect: the request is applied, then answered with a 500. */
  errorAfter: 'error-after',
  /** Lambda Invoke with InvocationType Event: the invocation is delivered twice. */
  duplicate: 'duplicate',
  /** A request carrying a NextToken is refused with ValidationException (before the effect). */
  rejectToken: 'reject-token',
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

const KINDS = new Set<string>(Object.values(FaultKind));
const BEFORE_TERMINAL = new Set<FaultKind>([
  FaultKind.throttle,
  FaultKind.error,
  FaultKind.resetBefore,
  FaultKind.rejectToken,
]);
const AFTER = new Set<FaultKind>([FaultKind.reset, FaultKind.late, FaultKind.errorAfter]);

export interface FaultRule {
  kind: FaultKind;
  /** Service name as the emulator names it (scheduler, dynamodb, lambda, cloudwatch, servicequotas) or '*'. */
  service?: string;
  /** Operation name (DeleteSchedule, UpdateItem, Invoke, PutMetricData, ...) or '*'. */
  operation?: string;
  /** Chance (0..1) that a matching request is struck; default 1. */
  probability?: number;
  /** Strike at most this many requests in total; default unlimited. */
  times?: number;
  /** Leave the first `skip` matching requests alone; default 0. */
  skip?: number;
  /** For `latency` and `late`: milliseconds; `late` defaults to FaultConfig.lateMs. */
  delayMs?: number;
}

export const ApplicationAction = {
  /** The schedule is updated to a one-time at() an hour in the future, ENABLED: live again. */
  update: 'update',
  /** The schedule is deleted and created again under the same name, due an hour in the future. */
  recreate: 'recreate',
  /** The schedule is deleted by the application. */
  delete: 'delete',
} as const;
export type ApplicationAction = (typeof ApplicationAction)[keyof typeof ApplicationAction];

/** An application that changes a resource while the product works on it. */
export interface ApplicationRule {
  action: ApplicationAction;
  service?: string;
  /** The product's operation that triggers the change (e.g. GetSchedule, DeleteSchedule). */
  operation: string;
  /**
   * `before`: the change lands just before the triggering request is applied.
   * `after`: the change lands `delayMs` (default 0) after the triggering request is answered.
   */
  when: 'before' | 'after';
  probability?: number;
  times?: number;
  delayMs?: number;
}

export interface TokenPolicy {
  /** A NextToken older than this (emulator time, from when it was handed out) is refused. */
  maxAgeMs?: number;
  /** A NextToken used more than this many times is refused. */
  maxUses?: number;
}

export interface FaultConfig {
  /** Seed for every decision; the same seed and the same requests give the same faults. */
  seed?: number;
  rules?: FaultRule[];
  application?: ApplicationRule[];
  tokens?: TokenPolicy;
  /** Default delay of a `late` answer: past the project's 10 s client request timeout. */
  lateMs?: number;
  /** Keep the applied-operations record (off by default: benchmarks send millions of requests). */
  record?: boolean;
}

/** What the dispatcher does with one request. */
export interface FaultDecision {
  /** Terminal fault before the effect, if any. */
  before?: FaultKind;
  /** Added latency before the effect, in milliseconds. */
  latencyMs: number;
  /** Fault after the effect, if any, and for `late` its delay. */
  after?: FaultKind;
  lateMs: number;
  duplicate: boolean;
  application: { rule: ApplicationRule; index: number }[];
  /** The key faults were decided on (service-independent; see requestKey). */
  key: string;
  occurrence: number;
}

/** How the client saw the answer to an applied request. */
export const Answer = {
  delivered: 'delivered',
  /** The socket was destroyed after the effect. */
  lost: 'lost',
  /** The answer was held back `lateMs`; the client may have given up before. */
  late: 'late',
  /** Applied, then answered 500. */
  errorAfter: 'error-after',
} as const;
export type Answer = (typeof Answer)[keyof typeof Answer];

/** One entry of the applied-operations record. Times are the emulator's clock (plane.now()), in ms. */
export interface AppliedEntry {
  /** Position in the record; shared with `FaultLayer.tick()` so tests can order their own events. */
  seq: number;
  /**
   * `client`: a request over HTTP; `application`: the simulated application's change; `service`:
   * the service acting on its own (Scheduler's ActionAfterCompletion DELETE).
   */
  actor: 'client' | 'application' | 'service';
  service: string;
  operation: string;
  /** The request key (method, path, query without tokens, JSON table and key). */
  key: string;
  /** When the request reached the service (after any injected latency). */
  at: number;
  /** Client requests: when the request arrived, before any injected latency. */
  arrivedAt?: number;
  /** HTTP status the service produced (before any after-effect fault replaced it). */
  status: number;
  /** The service changed or returned state: status below 300. */
  applied: boolean;
  answer: Answer;
  /** When the answer was written to the socket; absent while pending or when it was lost. */
  answeredAt?: number;
  /** Service-specific detail (scheduler: the schedule's definition before and after). */
  detail?: Record<string, unknown>;
}

export interface InjectedFault {
  seq: number;
  kind: FaultKind | `application:${ApplicationAction}`;
  service: string;
  operation: string;
  key: string;
  occurrence: number;
  at: number;
}

export class FaultLayer {
  private config: Required<Pick<FaultConfig, 'seed' | 'lateMs' | 'record'>> & FaultConfig = {
    seed: 0,
    lateMs: 11_000,
    record: false,
  };
  private readonly occurrences = new Map<string, number>();
  private readonly strikes = new Map<string, number>();
  private readonly matches = new Map<string, number>();
  private readonly tokens = new Map<string, { issuedAt: number; uses: number }>();
  private readonly log: AppliedEntry[] = [];
  private readonly injections: InjectedFault[] = [];
  private sequence = 0;

  constructor(private readonly now: () => number) {}

  /** Replaces the whole configuration and forgets occurrences, strikes and tokens (not the record). */
  configure(config: FaultConfig): void {
    validateConfig(config);
    this.config = {
      ...config,
      seed: config.seed ?? 0,
      lateMs: config.lateMs ?? 11_000,
      record: config.record ?? false,
    };
    this.occurrences.clear();
    this.strikes.clear();
    this.matches.clear();
    this.tokens.clear();
  }

  current(): FaultConfig {
    return structuredClone(this.config);
  }

  /** No faults, no record, record cleared. */
  reset(): void {
    this.configure({});
    this.clearRecord();
  }

  get recording(): boolean {
    return this.config.record;
  }

  /** A number that orders this moment among the applied record's entries. */
  tick(): number {
    this.sequence += 1;
    return this.sequence;
  }

  decide(service: string, operation: string, request: EmulatorRequest): FaultDecision {
    const key = requestKey(request);
    const occurrenceKey = `${service}\u0000${operation}\u0000${key}`;
    const occurrence = (this.occurrences.get(occurrenceKey) ?? 0) + 1;
    this.occurrences.set(occurrenceKey, occurrence);
    const decision: FaultDecision = {
      latencyMs: 0,
      lateMs: this.config.lateMs,
      duplicate: false,
      application: [],
      key,
      occurrence,
    };
    const hasToken = nextTokenOf(request) !== undefined;
    (this.config.rules ?? []).forEach((rule, index) => {
      if (!matches(rule, service, operation)) return;
      if (rule.kind === FaultKind.rejectToken && !hasToken) return;
      if (!this.fires(`r${index}`, rule, occurrenceKey, occurrence)) return;
      const kind = rule.kind;
      if (kind === FaultKind.latency) decision.latencyMs += rule.delayMs ?? 0;
      else if (kind === FaultKind.duplicate) decision.duplicate = true;
      else if (BEFORE_TERMINAL.has(kind)) decision.before ??= kind;
      else if (AFTER.has(kind) && decision.after === undefined) {
        decision.after = kind;
        if (kind === FaultKind.late) decision.lateMs = rule.delayMs ?? this.config.lateMs;
      }
      this.inject(kind, service, operation, key, occurrence);
    });
    (this.config.application ?? []).forEach((rule, index) => {
      if (!matches(rule, service, operation)) return;
      if (!this.fires(`a${index}`, rule, occurrenceKey, occurrence)) return;
      decision.application.push({ rule, index });
      this.inject(`application:${rule.action}`, service, operation, key, occurrence);
    });
    // A terminal fault before the effect means the after-effect never happens.
    if (decision.before) decision.after = undefined;
    return decision;
  }

  /** A seeded draw for a service-specific choice (e.g. which future time an application picks). */
  draw(label: string, key: string, occurrence: number): number {
    return unitHash(`${this.config.seed}\u0000${label}\u0000${key}\u0000${occurrence}`);
  }

  /**
   * Whether a NextToken the request carries has expired under the token policy. Tokens are tracked
   * from the answers that handed them out (see noteAnswer), so this works for any service.
   */
  tokenExpired(request: EmulatorRequest): boolean {
    const policy = this.config.tokens;
    if (!policy) return false;
    const token = nextTokenOf(request);
    if (token === undefined) return false;
    const entry = this.tokens.get(token);
    if (!entry) return false;
    entry.uses += 1;
    if (policy.maxUses !== undefined && entry.uses > policy.maxUses) return true;
    return policy.maxAgeMs !== undefined && this.now() - entry.issuedAt > policy.maxAgeMs;
  }

  /** Remembers a NextToken handed out in an answer body, for the token policy. */
  noteAnswer(body: unknown): void {
    if (!this.config.tokens || body === null || typeof body !== 'object') return;
    const token = (body as { NextToken?: unknown }).NextToken;
    // Handed out again (an emulated service may encode the same cursor the same way): a fresh
    // token, as AWS would issue, with its own age and uses.
    if (typeof token === 'string') this.tokens.set(token, { issuedAt: this.now(), uses: 0 });
  }

  /** Appends to the applied record (when recording) and returns the entry, for answeredAt. */
  record(entry: Omit<AppliedEntry, 'seq'>): AppliedEntry | undefined {
    if (!this.config.record) return undefined;
    const full: AppliedEntry = { seq: this.tick(), ...entry };
    this.log.push(full);
    return full;
  }

  /** The applied record, oldest first (a copy; entries with seq > `since` when given). */
  applied(since = 0): AppliedEntry[] {
    return this.log.filter((entry) => entry.seq > since).map((entry) => ({ ...entry }));
  }

  /** Faults injected so far, in decision order (kept only while recording). */
  injected(): InjectedFault[] {
    return this.injections.map((entry) => ({ ...entry }));
  }

  clearRecord(): void {
    this.log.length = 0;
    this.injections.length = 0;
  }

  private fires(
    ruleId: string,
    rule: { probability?: number; times?: number; skip?: number },
    occurrenceKey: string,
    occurrence: number,
  ): boolean {
    const seen = (this.matches.get(ruleId) ?? 0) + 1;
    this.matches.set(ruleId, seen);
    if (rule.skip !== undefined && seen <= rule.skip) return false;
    const struck = this.strikes.get(ruleId) ?? 0;
    if (rule.times !== undefined && struck >= rule.times) return false;
    const probability = rule.probability ?? 1;
    if (probability < 1) {
      const roll = unitHash(`${this.config.seed}\u0000${ruleId}\u0000${occurrenceKey}\u0000${occurrence}`);
      if (roll >= probability) return false;
    }
    this.strikes.set(ruleId, struck + 1);
    return true;
  }

  private inject(
    kind: InjectedFault['kind'],
    service: string,
    operation: string,
    key: string,
    occurrence: number,
  ): void {
    if (!this.config.record) return;
    this.injections.push({ seq: this.tick(), kind, service, operation, key, occurrence, at: this.now() });
  }
}

function matches(
  rule: { service?: string; operation?: string },
  service: string,
  operation: string,
): boolean {
  return (
    (rule.service === undefined || rule.service === '*' || rule.service === service) &&
    (rule.operation === undefined || rule.operation === '*' || rule.operation === operation)
  );
}

/** The NextToken a request carries, in its query (REST protocols) or JSON body (JSON protocols). */
export function nextTokenOf(request: EmulatorRequest): string | undefined {
  const fromQuery = request.query.get('NextToken') ?? request.query.get('nextToken');
  if (fromQuery) return fromQuery;
  const body = jsonBody(request);
  const token = body?.NextToken;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/**
 * A request's identity for fault decisions: method and path, the query without idempotency tokens
 * (they are random per call), and for JSON protocols the target, table and key. Two requests with
 * the same key are told apart by their occurrence number.
 */
export function requestKey(request: EmulatorRequest): string {
  const query = [...request.query.entries()]
    .filter(([name]) => name.toLowerCase() !== 'clienttoken')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const target = request.headers['x-amz-target'];
  let json = '';
  if (typeof target === 'string') {
    const body = jsonBody(request);
    if (body) {
      const item = body.Item as Record<string, unknown> | undefined;
      json = JSON.stringify([
        body.TableName ?? body.Namespace ?? body.ServiceCode ?? '',
        body.Key ?? (item ? (item.pk ?? item.PK ?? '') : ''),
        body.NextToken ?? body.ExclusiveStartKey ?? '',
      ]);
    }
  }
  return `${request.method} ${request.path}${query ? `?${query}` : ''}${target ? ` ${String(target)}` : ''}${json ? ` ${json}` : ''}`;
}

const parsedBodies = new WeakMap<EmulatorRequest, Record<string, unknown> | null>();

function jsonBody(request: EmulatorRequest): Record<string, unknown> | undefined {
  if (parsedBodies.has(request)) return parsedBodies.get(request) ?? undefined;
  let body: Record<string, unknown> | null = null;
  if (request.body.length > 0 && request.body.length < 1_000_000) {
    try {
      const parsed = JSON.parse(request.body.toString('utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed;
    } catch {
      body = null;
    }
  }
  parsedBodies.set(request, body);
  return body ?? undefined;
}

/** A uniform number in [0, 1) from a string: FNV-1a, then a murmur3 finalizer. */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 2 ** 32;
}

/** Refuses a configuration that is not exactly understood, naming the field. */
function validateConfig(config: FaultConfig): void {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error('Fault config must be an object');
  }
  const known = new Set(['seed', 'rules', 'application', 'tokens', 'lateMs', 'record']);
  for (const field of Object.keys(config)) {
    if (!known.has(field)) throw new Error(`Fault config: unknown field '${field}'`);
  }
  if (config.seed !== undefined && !Number.isSafeInteger(config.seed)) {
    throw new Error('Fault config: seed must be an integer');
  }
  for (const field of ['rules', 'application'] as const) {
    const list: unknown = config[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new Error(`Fault config: ${field} must be an array of objects`);
    list.forEach((entry: unknown, index) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        throw new Error(`Fault config: ${field}[${index}] must be an object`);
    });
  }
  const tokens: unknown = config.tokens;
  if (tokens !== undefined && (tokens === null || typeof tokens !== 'object' || Array.isArray(tokens))) {
    throw new Error('Fault config: tokens must be an object');
  }
  if (config.record !== undefined && typeof config.record !== 'boolean') {
    throw new Error('Fault config: record must be true or false');
  }
  checkMs('lateMs', config.lateMs);
  (config.rules ?? []).forEach((rule, index) => {
    if (!KINDS.has(rule.kind)) {
      throw new Error(`Fault config: rules[${index}].kind must be one of ${[...KINDS].join(', ')}`);
    }
    checkShare(`rules[${index}].probability`, rule.probability);
    checkCount(`rules[${index}].times`, rule.times);
    checkCount(`rules[${index}].skip`, rule.skip);
    checkMs(`rules[${index}].delayMs`, rule.delayMs);
  });
  const actions = new Set<string>(Object.values(ApplicationAction));
  (config.application ?? []).forEach((rule, index) => {
    if (!actions.has(rule.action)) {
      throw new Error(`Fault config: application[${index}].action must be one of ${[...actions].join(', ')}`);
    }
    if (typeof rule.operation !== 'string')
      throw new Error(`Fault config: application[${index}].operation is required`);
    if (rule.when !== 'before' && rule.when !== 'after') {
      throw new Error(`Fault config: application[${index}].when must be 'before' or 'after'`);
    }
    checkShare(`application[${index}].probability`, rule.probability);
    checkCount(`application[${index}].times`, rule.times);
    checkMs(`application[${index}].delayMs`, rule.delayMs);
  });
  if (config.tokens !== undefined) {
    // An age compared with the clock, not a timer: no timer's bound.
    checkMs('tokens.maxAgeMs', config.tokens.maxAgeMs, Number.MAX_SAFE_INTEGER);
    checkCount('tokens.maxUses', config.tokens.maxUses);
  }
}

function checkShare(field: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !(value >= 0 && value <= 1))) {
    throw new Error(`Fault config: ${field} must be a number from 0 to 1`);
  }
}

function checkCount(field: string, value: unknown): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 0)) {
    throw new Error(`Fault config: ${field} must be a whole number`);
  }
}

/** Milliseconds from 0 to `max`: by default a delay, which a timer waits (at most MAX_DELAY_MS). */
function checkMs(field: string, value: unknown, max = MAX_DELAY_MS): void {
  if (
    value !== undefined &&
    (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max)
  ) {
    throw new Error(`Fault config: ${field} must be milliseconds from 0 to ${max}`);
  }
}
