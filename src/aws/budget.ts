// Client-side request budgets: a paced token bucket per API operation, lowered on throttling and
// raised back slowly (AIMD), plus the retry loop. Every attempt, retries included, takes a token,
// so the rate we send never exceeds the budget we chose; retries never cover an excess.

export interface BudgetOptions {
  /** The most requests per second this operation may send (the quota, or a share of it). */
  ratePerSecond: number;
  /**
   * Share of the budget actually used (0..1]. The emulator and AWS count per wall-clock second
   * while timers fire late in bunches, so a small headroom keeps a paced sender under the cap.
   */
  headroom?: number;
  /** Attempts for throttled calls before the item is given up (each one paced and backed off). */
  maxThrottleAttempts?: number;
  /** Attempts for 5xx and network errors. */
  maxErrorAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

export interface BudgetStats {
  /** Requests sent, retries included. */
  requests: number;
  /** ThrottlingException answers received. */
  throttled: number;
  /** Retries after a 5xx or a network error. */
  errorRetries: number;
  /** Calls that failed for good (after retries, or with a non-retryable error). */
  failures: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Default BudgetOptions.headroom: 97% of the configured rate is used. */
export const DEFAULT_HEADROOM = 0.97;

/**
 * The longest release tick (ms). Requests that wait for their slots leave in bunches, one bunch per
 * tick, woken by one timer run instead of one each: at 1,000 requests a second, ten a wake-up. The
 * sender's CPU per request falls with it (docs/scale.md, "Release ticks": GetSchedule sent alone at
 * 1,000 a second took 0.34 ms of CPU at the median against 0.51 ms, measured side by side).
 */
export const RELEASE_TICK_MS = 10;

/**
 * The release tick a budget with this headroom uses: RELEASE_TICK_MS, or less where the headroom
 * could not absorb a tick's bunch. A request leaves between 1 ms before its slot and one tick after
 * it, and slots are spaced 1000 / rate ms apart, so any interval of T ms carries at most
 * rate × (T + tick + 1) / 1000 + 1 requests; with the rate at `headroom` × the configured rate, a
 * second then carries at most the configured rate (plus the one request even spacing allows) when
 * (1 + (tick + 1) / 1000) × headroom ≤ 1. With no headroom (1) the tick is 0.
 */
export function releaseTickFor(headroom: number): number {
  if (!(headroom > 0 && headroom < 1)) return 0;
  return Math.max(0, Math.min(RELEASE_TICK_MS, Math.floor((1 / headroom - 1) * 1000) - 1));
}

export class RequestBudget {
  readonly stats: BudgetStats = { requests: 0, throttled: 0, errorRetries: 0, failures: 0 };
  readonly maxRate: number;
  /** Slots that must wait are released at multiples of this (ms); 0: at the slot itself. */
  readonly releaseTickMs: number;
  private rate: number;
  private nextSlot = 0;
  private lastAdjust: number;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly options: Required<
    Pick<BudgetOptions, 'maxThrottleAttempts' | 'maxErrorAttempts' | 'baseDelayMs' | 'maxDelayMs'>
  >;

  constructor(
    readonly operation: string,
    options: BudgetOptions,
  ) {
    if (!(options.ratePerSecond > 0))
      throw new RangeError(`${operation} budget must be above 0 requests per second`);
    const headroom = options.headroom ?? DEFAULT_HEADROOM;
    if (!(headroom > 0 && headroom <= 1))
      throw new RangeError(`${operation} budget headroom must be above 0 and at most 1`);
    this.maxRate = options.ratePerSecond * headroom;
    this.releaseTickMs = releaseTickFor(headroom);
    this.rate = this.maxRate;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    this.lastAdjust = this.now();
    this.options = {
      maxThrottleAttempts: options.maxThrottleAttempts ?? 12,
      maxErrorAttempts: options.maxErrorAttempts ?? 4,
      baseDelayMs: options.baseDelayMs ?? 100,
      maxDelayMs: options.maxDelayMs ?? 5_000,
    };
  }

  /** The rate currently allowed, after any lowering for throttling. */
  get currentRate(): number {
    return this.rate;
  }

  /**
   * Waits for this request's slot. Slots are spaced evenly at the current rate; a request that must
   * wait leaves at the first release tick (a multiple of `releaseTickMs` on this budget's clock) at
   * or after its slot, so those due within one tick leave together. A wait under 1 ms (a timer's
   * resolution) is not waited: a request leaves at most 1 ms before its tick or slot. A request
   * whose slot has come leaves at once.
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = this.now();
    this.recover(now);
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / this.rate;
    if (slot <= now) return;
    const release = this.releaseTickMs > 0 ? Math.ceil(slot / this.releaseTickMs) * this.releaseTickMs : slot;
    const wait = release - now;
    if (wait >= 1) await this.pause(wait, signal);
  }

  /** Sleeps, or throws an AbortError as soon as `signal` aborts. */
  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.sleep(ms);
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        this.sleep(ms),
        new Promise<never>((_resolve, reject) => {
          onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Runs `send` within the budget, retrying throttling and transient errors with capped jittered backoff.
   * `prepare`, when given, runs after each slot is granted and before its request is sent and counted:
   * the place for a last check that may decide the request must not be sent (by throwing; its error
   * is passed on as it is, with no retry and nothing counted). An aborted `signal` ends the call at
   * once with the signal's reason: no further wait, attempt or retry.
   */
  async call<T>(
    send: () => Promise<T>,
    hooks: { prepare?: () => Promise<void>; signal?: AbortSignal } = {},
  ): Promise<T> {
    const { signal } = hooks;
    let throttleAttempts = 0;
    let errorAttempts = 0;
    for (;;) {
      // An aborted signal ends the call before any further wait or attempt (the caller's deadline).
      signal?.throwIfAborted();
      await this.acquire(signal);
      await hooks.prepare?.();
      signal?.throwIfAborted();
      this.stats.requests += 1;
      try {
        return await send();
      } catch (error) {
        if (wasNotSent(error)) {
          // Stopped before it left (a departure check): no request reached the service.
          this.stats.requests -= 1;
          throw error;
        }
        if (isThrottling(error)) {
          this.stats.throttled += 1;
          throttleAttempts += 1;
          this.lower();
          if (throttleAttempts >= this.options.maxThrottleAttempts) {
            this.stats.failures += 1;
            throw error;
          }
          await this.pause(this.backoff(throttleAttempts), signal);
          continue;
        }
        if (isTransient(error)) {
          errorAttempts += 1;
          if (errorAttempts >= this.options.maxErrorAttempts) {
            this.stats.failures += 1;
            throw error;
          }
          this.stats.errorRetries += 1;
          await this.pause(this.backoff(errorAttempts), signal);
          continue;
        }
        throw error;
      }
    }
  }

  /** Multiplicative decrease, at most once per second so one bad second does not collapse the rate. */
  private lower(): void {
    const now = this.now();
    if (now - this.lastDecrease < 1000) return;
    this.lastDecrease = now;
    this.lastAdjust = now;
    // Never below 1% of the budget or 0.5 a second, nor above the budget itself.
    this.rate = Math.min(this.maxRate, Math.max(this.maxRate / 100, this.rate * 0.7, 0.5));
  }

  /** Additive increase: 5% of the budget back for every second without throttling. */
  private recover(now: number): void {
    if (this.rate >= this.maxRate) {
      this.lastAdjust = now;
      return;
    }
    const seconds = (now - this.lastAdjust) / 1000;
    if (seconds < 1) return;
    this.rate = Math.min(this.maxRate, this.rate + this.maxRate * 0.05 * seconds);
    this.lastAdjust = now;
  }

  /** Equal jitter over a capped exponential: half the delay, plus a random share of the other half. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }
}

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** An error that says its request never left this process (e.g. DepartureRefused). */
export function wasNotSent(error: unknown): boolean {
  return (error as { notSent?: unknown } | undefined)?.notSent === true;
}

export function isThrottling(error: unknown): boolean {
  const candidate = error as AwsLikeError;
  return (
    candidate?.name === 'ThrottlingException' ||
    candidate?.name === 'TooManyRequestsException' ||
    candidate?.name === 'Throttling' ||
    candidate?.$metadata?.httpStatusCode === 429 ||
    candidate?.$retryable?.throttling === true
  );
}

export function isTransient(error: unknown): boolean {
  const candidate = error as AwsLikeError;
  const status = candidate?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const code = candidate?.code ?? candidate?.name;
  return (
    code === 'ECONNRESET' ||
    code === 'ECONNREFUSED' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'TimeoutError' ||
    code === 'RequestTimeout' ||
    code === 'InternalServerException'
  );
}

export function isNotFound(error: unknown): boolean {
  const candidate = error as AwsLikeError;
  return candidate?.name === 'ResourceNotFoundException' || candidate?.$metadata?.httpStatusCode === 404;
}

/**
 * Whether a list request that carried a NextToken failed because the service refused the token
 * (ValidationException: expired, or otherwise invalid). Its listing can only start over from the
 * first page. Scheduler's API model documents no error of its own for this; ValidationException is
 * what it answers for an input it refuses.
 */
export function isNextTokenRejected(error: unknown, token: string | undefined): boolean {
  return token !== undefined && (error as AwsLikeError | undefined)?.name === 'ValidationException';
}

/**
 * Restarts of one listing from its first page after a refused NextToken, at most, per invocation
 * (the sweep's per group, the census's for its one listing of the account); the next refusal fails
 * the run. A token refused that often points at something other than expiry.
 */
export const MAX_LISTING_RESTARTS = 3;
