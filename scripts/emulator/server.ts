// One HTTP server that speaks the wire protocols of the AWS services this project calls, so the
// unmodified SDK v3 clients talk to it through `endpoint` or AWS_ENDPOINT_URL_*.
// Test controls live under /_emulator/ (JSON) and on the object startEmulator returns.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import {
  AwsError,
  ControlError,
  ControlPlane,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  isCalendarDateTime,
  MAX_CLOCK_OFFSET_MS,
  MAX_DELAY_MS,
  readRequest,
  sleep,
  validation,
} from './core.ts';
import { Answer, type FaultConfig, FaultKind } from './faults.ts';
import { ACCOUNT_ID_PATTERN, DEFAULT_ACCOUNT_ID, DEFAULT_REGION } from './scopes.ts';
import { createServiceRegistry, type ServiceRegistry } from './services.ts';

export interface RunningEmulator {
  /** Base URL, e.g. http://127.0.0.1:4566 */
  url: string;
  port: number;
  plane: ControlPlane;
  services: ServiceRegistry;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const plane = new ControlPlane();
  const services = createServiceRegistry(plane);
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };
  const server = createServer((message, response) => {
    readRequest(message)
      .then((request) => dispatch(request, plane, services))
      .then((reply) => deliver(response, reply, later, plane))
      .catch((error: unknown) => {
        send(response, { status: 500, body: { message: String(error) } });
      });
  });
  server.keepAliveTimeout = 65_000;
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    plane,
    services,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      // DynamoDB is served by an in-process dynalite on a loopback port of its own.
      await services.dynamodb.close();
    },
  };
}

/** What the server does with a request: answer, possibly late, or destroy the connection. */
interface Reply {
  response?: EmulatorResponse;
  /** Destroy the socket instead of answering (the client sees a reset). */
  drop?: boolean;
  /** Hold the answer back this long. */
  delayMs?: number;
  /** Runs once the answer is written (or dropped), with the emulator time. */
  afterAnswer?: (answeredAt: number | undefined) => void;
}

async function dispatch(
  request: EmulatorRequest,
  plane: ControlPlane,
  services: ServiceRegistry,
): Promise<Reply> {
  if (request.path.startsWith('/_emulator/')) return { response: await control(request, plane, services) };
  for (const service of services.all) {
    const operation = service.identify(request);
    if (operation === undefined) continue;
    plane.inFlight += 1;
    let reply: Reply;
    try {
      reply = await invoke(service, operation, request, plane);
    } catch (error) {
      plane.inFlight -= 1;
      throw error;
    }
    const settle = reply.afterAnswer;
    return {
      ...reply,
      afterAnswer: (answeredAt) => {
        plane.inFlight -= 1;
        settle?.(answeredAt);
      },
    };
  }
  return {
    response: {
      status: 404,
      body: { message: `No emulated service answers ${request.method} ${request.path}` },
    },
  };
}

async function invoke(
  service: EmulatedService,
  operation: string,
  request: EmulatorRequest,
  plane: ControlPlane,
): Promise<Reply> {
  const arrivedAt = plane.now().getTime();
  const stats = plane.statsFor(operation);
  stats.calls += 1;
  const faults = plane.faults;
  const decision = faults.decide(service.name, operation, request);
  // Each delay is at most MAX_DELAY_MS; so is their sum (a longer Node timer would fire after 1 ms).
  const latency = Math.min(plane.latencyFor(operation) + decision.latencyMs, MAX_DELAY_MS);
  if (plane.overRateLimit(operation) || decision.before === FaultKind.throttle) {
    stats.throttled += 1;
    if (latency > 0) await sleep(latency);
    return { response: service.renderError(new AwsError('ThrottlingException', 429, 'Rate exceeded')) };
  }
  if (latency > 0) await sleep(latency);
  if (plane.shouldInjectError(operation) || decision.before === FaultKind.error) {
    stats.injectedErrors += 1;
    return {
      response: service.renderError(new AwsError('InternalServerException', 500, 'Injected internal error')),
    };
  }
  if (decision.before === FaultKind.resetBefore) return { drop: true };
  // AWS refuses a NextToken it no longer accepts with a ValidationException (Scheduler: "Invalid NextToken").
  if (decision.before === FaultKind.rejectToken) {
    return { response: service.renderError(validation('Invalid NextToken.')) };
  }
  if (faults.tokenExpired(request)) {
    return { response: service.renderError(validation('The NextToken has expired.')) };
  }
  const simulate = (action: (typeof decision.application)[number]) => {
    const changes = service.simulateApplication?.(
      action.rule.action,
      operation,
      request,
      faults.draw(`application${action.index}`, decision.key, decision.occurrence),
    );
    for (const change of changes ?? []) {
      faults.record({
        actor: 'application',
        service: service.name,
        operation: change.operation,
        key: decision.key,
        at: plane.now().getTime(),
        status: 200,
        applied: true,
        answer: Answer.delivered,
        answeredAt: plane.now().getTime(),
        detail: change.detail,
      });
    }
  };
  for (const action of decision.application) if (action.rule.when === 'before') simulate(action);
  if (decision.duplicate) request.duplicate = true;
  const at = plane.now().getTime();
  let response: EmulatorResponse;
  try {
    response = await service.handle(operation, request);
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    response = service.renderError(error);
  }
  if (response.status < 300) faults.noteAnswer(response.body);
  const answer =
    decision.after === FaultKind.reset
      ? Answer.lost
      : decision.after === FaultKind.late
        ? Answer.late
        : decision.after === FaultKind.errorAfter
          ? Answer.errorAfter
          : Answer.delivered;
  const { detail, ...wire } = response;
  const entry = faults.record({
    actor: 'client',
    service: service.name,
    operation,
    key: decision.key,
    at,
    arrivedAt,
    status: response.status,
    applied: response.status < 300,
    answer,
    ...(detail ? { detail } : {}),
  });
  const after = decision.application.filter((action) => action.rule.when === 'after');
  const afterAnswer = (answeredAt: number | undefined) => {
    if (entry && answeredAt !== undefined) entry.answeredAt = answeredAt;
    for (const action of after) {
      const delay = action.rule.delayMs ?? 0;
      if (delay > 0) setTimeout(() => simulate(action), delay).unref();
      else simulate(action);
    }
  };
  if (decision.after === FaultKind.reset) return { drop: true, afterAnswer };
  if (decision.after === FaultKind.errorAfter) {
    return {
      response: service.renderError(new AwsError('InternalServerException', 500, 'Injected internal error')),
      afterAnswer,
    };
  }
  if (decision.after === FaultKind.late) return { response: wire, delayMs: decision.lateMs, afterAnswer };
  return { response: wire, afterAnswer };
}

const count = (what: string) =>
  v.pipe(v.number(`expected ${what}`), v.finite(`expected ${what}`), v.minValue(0, `expected ${what}`));
const DELAY = `milliseconds from 0 to ${MAX_DELAY_MS}`;
const delay = v.pipe(count(DELAY), v.maxValue(MAX_DELAY_MS, `expected ${DELAY}`));
const OFFSET = `milliseconds, at most ${MAX_CLOCK_OFFSET_MS} either way (100 years)`;
const share = v.pipe(count('a share from 0 to 1'), v.maxValue(1, 'expected a share from 0 to 1'));
const perOperation = <S extends v.GenericSchema>(value: S) =>
  v.record(v.string(), value, "expected an object of operation name (or '*') to number");
/**
 * The body POST /_emulator/controls accepts (the EmulatorControls knobs plus `now`, an ISO date-time):
 * every member optional, any other member or a wrong type refused with a 400 naming it.
 */
const controlsBody = v.strictObject(
  {
    rateLimits: v.optional(perOperation(count('requests per second, 0 or more'))),
    latencyMs: v.optional(delay),
    latencyByOperation: v.optional(perOperation(delay)),
    errorRates: v.optional(perOperation(share)),
    throttleRates: v.optional(perOperation(share)),
    clockOffsetMs: v.optional(
      v.pipe(
        v.number(`expected ${OFFSET}`),
        v.finite(`expected ${OFFSET}`),
        v.minValue(-MAX_CLOCK_OFFSET_MS, `expected ${OFFSET}`),
        v.maxValue(MAX_CLOCK_OFFSET_MS, `expected ${OFFSET}`),
      ),
    ),
    now: v.optional(
      v.pipe(
        v.string('expected an ISO 8601 date-time'),
        v.check(isCalendarDateTime, 'expected an ISO 8601 date-time of a real day, with Z or an offset'),
        v.check(
          (text) => Math.abs(Date.parse(text) - Date.now()) <= MAX_CLOCK_OFFSET_MS,
          'expected a date-time within 100 years of the machine clock',
        ),
      ),
    ),
  },
  (issue) =>
    issue.expected === 'never'
      ? 'no such control (known: rateLimits, latencyMs, latencyByOperation, errorRates, throttleRates, clockOffsetMs, now)'
      : 'expected a JSON object',
);

/** JSON control API, for an emulator in another process (benchmarks, `npm run emulator`). */
async function control(
  request: EmulatorRequest,
  plane: ControlPlane,
  services: ServiceRegistry,
): Promise<EmulatorResponse> {
  let body: Record<string, unknown> = {};
  if (request.body.length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body.toString('utf8'));
    } catch {
      return {
        status: 400,
        body: { message: 'Control body: expected a JSON object, got text that is not JSON' },
      };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return {
        status: 400,
        body: { message: `Control body: expected a JSON object, got ${JSON.stringify(parsed)}` },
      };
    }
    body = parsed as Record<string, unknown>;
  }
  const route = request.path.slice('/_emulator/'.length);
  if (route === 'controls' && request.method === 'POST') {
    const parsed = v.safeParse(controlsBody, body);
    if (!parsed.success) {
      const [issue] = parsed.issues;
      const field = issue.path?.map((item) => String(item.key)).join('.') ?? '(body)';
      return { status: 400, body: { message: `Control ${field}: ${issue.message}` } };
    }
    const { now, ...rest } = parsed.output;
    Object.assign(plane.controls, rest);
    if (now) plane.setNow(new Date(now));
    return { status: 200, body: { ...plane.controls, random: undefined, now: plane.now().toISOString() } };
  }
  if (route === 'stats') {
    if (request.method === 'DELETE') plane.resetStats();
    return { status: 200, body: Object.fromEntries(plane.stats) };
  }
  if (route === 'faults') {
    if (request.method === 'POST') {
      try {
        plane.faults.configure(body as FaultConfig);
      } catch (error) {
        return { status: 400, body: { message: (error as Error).message } };
      }
    }
    return { status: 200, body: plane.faults.current() };
  }
  if (route === 'applied') {
    if (request.method === 'DELETE') plane.faults.clearRecord();
    const since = Number(request.query.get('since') ?? 0);
    return { status: 200, body: { applied: plane.faults.applied(since), injected: plane.faults.injected() } };
  }
  const [serviceName, action] = route.split('/');
  const scoped = scopedControl(serviceName ?? '', request.query, services);
  if (typeof scoped === 'string') return { status: 400, body: { message: scoped } };
  const service = scoped ?? services.byName(serviceName ?? '');
  if (service?.control && action) {
    try {
      return { status: 200, body: await service.control(action, body) };
    } catch (error) {
      // A control's refusal of its body or action names what it expected; anything else is a fault.
      if (error instanceof ControlError || (error instanceof AwsError && error.status < 500)) {
        return { status: error.status, body: { message: error.message } };
      }
      throw error;
    }
  }
  return { status: 404, body: { message: `Unknown control route ${route}` } };
}

/**
 * The service a control route with `?account=<12 digits>&region=<Region>` addresses: that scope's
 * Scheduler, Service Quotas or CloudWatch (either parameter absent: the default's). Undefined when the
 * route names no scope; a message when the parameters are not understood.
 */
function scopedControl(
  serviceName: string,
  query: URLSearchParams,
  services: ServiceRegistry,
): EmulatedService | string | undefined {
  const account = query.get('account');
  const region = query.get('region');
  if (account === null && region === null) return undefined;
  if (account !== null && !ACCOUNT_ID_PATTERN.test(account)) {
    return `Query account: expected a 12-digit account id, got '${account}'`;
  }
  if (region !== null && !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) {
    return `Query region: expected a Region name such as us-east-1, got '${region}'`;
  }
  const scope = services.scope(account ?? DEFAULT_ACCOUNT_ID, region ?? DEFAULT_REGION);
  const byName: Record<string, EmulatedService> = {
    scheduler: scope.scheduler,
    servicequotas: scope.serviceQuotas,
    cloudwatch: scope.cloudwatch,
  };
  return (
    byName[serviceName] ?? `Query account and region apply to scheduler, servicequotas and cloudwatch only`
  );
}

function deliver(
  response: ServerResponse,
  reply: Reply,
  later: (ms: number, action: () => void) => void,
  plane: ControlPlane,
): void {
  if (reply.drop) {
    // The client sees the connection reset: no status, no body.
    response.socket?.destroy();
    reply.afterAnswer?.(undefined);
    return;
  }
  const result = reply.response ?? { status: 500 };
  if (reply.delayMs && reply.delayMs > 0) {
    later(reply.delayMs, () => {
      const open = !response.destroyed && !response.writableEnded && response.socket?.destroyed !== true;
      if (open) send(response, result);
      reply.afterAnswer?.(open ? plane.now().getTime() : undefined);
    });
    return;
  }
  send(response, result);
  reply.afterAnswer?.(plane.now().getTime());
}

function send(response: ServerResponse, result: EmulatorResponse): void {
  // A Buffer is sent as it is (the XML of the Query protocol); anything else as JSON.
  const payload =
    result.body === undefined ? '' : Buffer.isBuffer(result.body) ? result.body : JSON.stringify(result.body);
  response.writeHead(result.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': crypto.randomUUID(),
    ...result.headers,
  });
  response.end(payload);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
