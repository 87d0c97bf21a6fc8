// The plumbing every emulated service shares: request parsing, AWS-shaped errors, and the test
// controls (per-operation rate caps, added latency, injected 500s, a settable clock, call counters).
import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { type ApplicationAction, FaultLayer } from './faults.ts';

export interface EmulatorRequest {
  method: string;
  /** Path without the query string, percent-decoded segment by segment by the service. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Raw body, already gunzipped when content-encoding was gzip. */
  body: Buffer;
  /** Set by the fault layer: deliver this asynchronous invocation twice (Lambda Event). */
  duplicate?: boolean;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Not sent: what the request changed, for the applied record (e.g. the definition deleted). */
  detail?: Record<string, unknown>;
}

/** An error the emulator answers with, in the shape the service's protocol expects. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export const validation = (message: string) => new AwsError('ValidationException', 400, message);

/**
 * A control request (`/_emulator/...`, or the same call in-process) the emulator refuses: 400 for a
 * body or value it does not understand, 404 for an action it does not have. In-process it is an
 * Error like any other; over HTTP the server answers its status with its message.
 */
export class ControlError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/**
 * The longest delay a control may ask for: setTimeout's largest (2^31 - 1 ms, about 24.8 days). Node
 * runs a timer asked for longer after 1 ms instead (Node.js docs, timers: setTimeout), so a larger
 * latency would become none.
 */
export const MAX_DELAY_MS = 2_147_483_647;

/** The farthest a control may set the emulator's clock from the machine's, either way: 100 years. */
export const MAX_CLOCK_OFFSET_MS = 100 * 365.25 * 24 * 3_600_000;

const CALENDAR_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Whether `text` is an ISO 8601 date-time that names one real instant: a day the calendar has (no
 * 30 February: Date.parse would roll it over to March), hours 0-23, minutes and seconds 0-59, and a
 * zone, `Z` or an offset up to ±23:59. The controls refuse any other text instead of reading it as
 * another instant.
 */
export function isCalendarDateTime(text: string): boolean {
  const match = CALENDAR_DATE_TIME.exec(text);
  if (!match) return false;
  const [, year, month, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] = match;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  return (
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day) &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59 &&
    !Number.isNaN(Date.parse(text))
  );
}

/** A control's value it does not understand (400). */
export const badControl = (message: string) => new ControlError(400, message);
/** A control action a service does not have (404). */
export const unknownControl = (message: string) => new ControlError(404, message);
export const notFound = (message: string) => new AwsError('ResourceNotFoundException', 404, message);
export const conflict = (message: string) => new AwsError('ConflictException', 409, message);

/** One emulated AWS service. `identify` names the operation, or returns undefined when not ours. */
export interface EmulatedService {
  name: string;
  identify(request: EmulatorRequest): string | undefined;
  handle(operation: string, request: EmulatorRequest): Promise<EmulatorResponse> | EmulatorResponse;
  /** How an AwsError is rendered for this protocol. */
  renderError(error: AwsError): EmulatorResponse;
  /** Test controls reached at POST /_emulator/<name>/<action> with a JSON body. */
  control?(action: string, body: Record<string, unknown>): unknown;
  /**
   * The simulated application's change to the resource `request` names (see faults.ts), made
   * without HTTP; returns the detail for the applied record, or undefined when nothing changed.
   * `draw` is a seeded number in [0, 1) for the change's own choices.
   */
  simulateApplication?(
    action: ApplicationAction,
    operation: string,
    request: EmulatorRequest,
    draw: number,
  ): { operation: string; detail: Record<string, unknown> }[] | undefined;
}

/** Knobs tests and benchmarks turn. All may be changed while the server runs. */
export interface EmulatorControls {
  /** Max requests per operation per wall-clock second; above it: 429 ThrottlingException. */
  rateLimits: Record<string, number>;
  /** Added latency per request in milliseconds (every operation), or per operation. */
  latencyMs: number;
  latencyByOperation: Record<string, number>;
  /** Share (0..1) of requests answered with 500 InternalServerException, per operation or '*'. */
  errorRates: Record<string, number>;
  /** Share (0..1) of requests answered with 429 ThrottlingException regardless of rate, per operation or '*'. */
  throttleRates: Record<string, number>;
  /** Offset added to the real clock; the emulator's notion of "now" is Date.now() + clockOffsetMs. */
  clockOffsetMs: number;
  /** Deterministic random source for injected errors (tests may replace it). */
  random: () => number;
}

export interface OperationStats {
  calls: number;
  throttled: number;
  injectedErrors: number;
}

export class ControlPlane {
  readonly controls: EmulatorControls = {
    rateLimits: {},
    latencyMs: 0,
    latencyByOperation: {},
    errorRates: {},
    throttleRates: {},
    clockOffsetMs: 0,
    random: Math.random,
  };
  readonly stats = new Map<string, OperationStats>();
  /** Seeded faults before and after the effect, and the applied-operations record (faults.ts). */
  readonly faults = new FaultLayer(() => this.now().getTime());
  /** Service requests received and not yet answered (or dropped), late answers included. */
  inFlight = 0;
  private readonly windows = new Map<string, { second: number; count: number }>();

  now(): Date {
    return new Date(Date.now() + this.controls.clockOffsetMs);
  }

  setNow(at: Date): void {
    this.controls.clockOffsetMs = at.getTime() - Date.now();
  }

  statsFor(operation: string): OperationStats {
    let entry = this.stats.get(operation);
    if (!entry) {
      entry = { calls: 0, throttled: 0, injectedErrors: 0 };
      this.stats.set(operation, entry);
    }
    return entry;
  }

  resetStats(): void {
    this.stats.clear();
    this.windows.clear();
  }

  /**
   * Counts the request in its one-second window (real time) and says whether it is over the cap,
   * or picked for an injected throttle (a "storm").
   */
  overRateLimit(operation: string): boolean {
    const stormRate = this.controls.throttleRates[operation] ?? this.controls.throttleRates['*'] ?? 0;
    if (stormRate > 0 && this.controls.random() < stormRate) return true;
    const cap = this.controls.rateLimits[operation];
    if (cap === undefined) return false;
    const second = Math.floor(Date.now() / 1000);
    let window = this.windows.get(operation);
    if (!window || window.second !== second) {
      window = { second, count: 0 };
      this.windows.set(operation, window);
    }
    window.count += 1;
    return window.count > cap;
  }

  latencyFor(operation: string): number {
    return this.controls.latencyByOperation[operation] ?? this.controls.latencyMs;
  }

  shouldInjectError(operation: string): boolean {
    const rate = this.controls.errorRates[operation] ?? this.controls.errorRates['*'] ?? 0;
    return rate > 0 && this.controls.random() < rate;
  }
}

export async function readRequest(message: IncomingMessage): Promise<EmulatorRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  if ((message.headers['content-encoding'] ?? '').toString().includes('gzip') && body.length > 0) {
    body = gunzipSync(body);
  }
  const url = new URL(message.url ?? '/', 'http://emulator.local');
  return {
    method: message.method ?? 'GET',
    path: rawPath(message.url, url),
    query: url.searchParams,
    headers: message.headers,
    body,
  };
}

/**
 * The request's path as it was sent, not as a URL parser rewrites it: `new URL` removes dot segments
 * (`/schedules/..` becomes `/`), but a schedule may be named `.` or `..` (the API model's name pattern
 * allows both) and the SDK writes a name label with its dots unescaped. How AWS routes such a path is
 * undocumented; the emulator's documented choice is to route the label as sent (docs/emulator.md).
 * An absolute-form request target (`http://host/path`, a proxy's) falls back to the parsed path.
 */
function rawPath(target: string | undefined, url: URL): string {
  if (target === undefined || !target.startsWith('/')) return url.pathname;
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

export function parseJsonBody(request: EmulatorRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  try {
    const parsed = JSON.parse(request.body.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw validation('Request body must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AwsError) throw error;
    throw new AwsError('SerializationException', 400, 'Request body is not valid JSON');
  }
}

/** The operation an AWS JSON protocol request names in x-amz-target (`<prefix>.<Operation>`), if ours. */
export function targetOperation(request: EmulatorRequest, prefix: string): string | undefined {
  const target = request.headers['x-amz-target'];
  if (typeof target !== 'string' || !target.startsWith(prefix)) return undefined;
  return target.slice(prefix.length);
}

/**
 * Error rendering for services that name the core's generic errors their own way
 * (Lambda and Service Quotas say TooManyRequestsException and ServiceException).
 */
export function renderRenamedError(
  error: AwsError,
  names: Record<string, string>,
  prefix = '',
): EmulatorResponse {
  const type = names[error.type] ?? error.type;
  return renderJsonProtocolError(new AwsError(type, error.status, error.message), prefix);
}

/** Error rendering for the AWS JSON 1.0 / 1.1 protocols. */
export function renderJsonProtocolError(error: AwsError, prefix = ''): EmulatorResponse {
  return {
    status: error.status,
    headers: { 'x-amzn-errortype': error.type },
    body: { __type: `${prefix}${error.type}`, message: error.message, Message: error.message },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
