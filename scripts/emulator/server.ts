// One HTTP server that speaks the wire protocols of the AWS services this project calls, so the
// unmodified SDK v3 clients talk to it through `endpoint` or AWS_ENDPOINT_URL_*.
// Test controls live under /_emulator/ (JSON) and on the object startEmulator returns.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AwsError,
  ControlPlane,
  type EmulatedService,
  type EmulatorControls,
  type EmulatorRequest,
  type EmulatorResponse,
  readRequest,
  sleep,
} from './core.ts';
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
  const server = createServer((message, response) => {
    readRequest(message)
      .then((request) => dispatch(request, plane, services))
      .then((result) => send(response, result))
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function dispatch(
  request: EmulatorRequest,
  plane: ControlPlane,
  services: ServiceRegistry,
): Promise<EmulatorResponse> {
  if (request.path.startsWith('/_emulator/')) return control(request, plane, services);
  for (const service of services.all) {
    const operation = service.identify(request);
    if (operation === undefined) continue;
    return invoke(service, operation, request, plane);
  }
  return { status: 404, body: { message: `No emulated service answers ${request.method} ${request.path}` } };
}

async function invoke(
  service: EmulatedService,
  operation: string,
  request: EmulatorRequest,
  plane: ControlPlane,
): Promise<EmulatorResponse> {
  const stats = plane.statsFor(operation);
  stats.calls += 1;
  const latency = plane.latencyFor(operation);
  if (plane.overRateLimit(operation)) {
    stats.throttled += 1;
    if (latency > 0) await sleep(latency);
    return service.renderError(new AwsError('ThrottlingException', 429, 'Rate exceeded'));
  }
  if (latency > 0) await sleep(latency);
  if (plane.shouldInjectError(operation)) {
    stats.injectedErrors += 1;
    return service.renderError(new AwsError('InternalServerException', 500, 'Injected internal error'));
  }
  try {
    return await service.handle(operation, request);
  } catch (error) {
    if (error instanceof AwsError) return service.renderError(error);
    throw error;
  }
}

/** JSON control API, for an emulator in another process (benchmarks, `npm run emulator`). */
async function control(
  request: EmulatorRequest,
  plane: ControlPlane,
  services: ServiceRegistry,
): Promise<EmulatorResponse> {
  const body =
    request.body.length > 0 ? (JSON.parse(request.body.toString('utf8')) as Record<string, unknown>) : {};
  const route = request.path.slice('/_emulator/'.length);
  if (route === 'controls' && request.method === 'POST') {
    const { now, ...rest } = body as Partial<EmulatorControls> & { now?: string };
    Object.assign(plane.controls, rest);
    if (now) plane.setNow(new Date(now));
    return { status: 200, body: { ...plane.controls, random: undefined, now: plane.now().toISOString() } };
  }
  if (route === 'stats') {
    if (request.method === 'DELETE') plane.resetStats();
    return { status: 200, body: Object.fromEntries(plane.stats) };
  }
  const [serviceName, action] = route.split('/');
  const service = services.byName(serviceName ?? '');
  if (service?.control && action) {
    return { status: 200, body: await service.control(action, body) };
  }
  return { status: 404, body: { message: `Unknown control route ${route}` } };
}

function send(response: ServerResponse, result: EmulatorResponse): void {
  const payload = result.body === undefined ? '' : JSON.stringify(result.body);
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
