// A front between the SDK and the emulator that changes chosen requests on their way, as something
// between a caller and Scheduler might (a proxy, a cache shared across accounts, a URL parser): for
// the tests of what the product does with an answer it did not ask for.
import { createServer, request as forward, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import type { TestEmulator } from './emulator.ts';

export interface FrontRules {
  /** Reads each path as a URL parser does, so dot segments (`/schedules/..`) are removed. */
  normalizePath?: boolean;
  /** GetSchedule of `/schedules/<from>` (any group) sent as `/schedules/<to>`. */
  redirect?: Record<string, string>;
  /** ListSchedules sent without its ScheduleGroup and NamePrefix filters: every group, every name. */
  dropListFilters?: boolean;
  /** GetSchedule of these names signed as this account's (the emulator routes by the access key). */
  otherAccountFor?: Record<string, string>;
  /** GetSchedule of these names signed for this Region. */
  otherRegionFor?: Record<string, string>;
}

export interface Front {
  url: string;
  /** A Scheduler client whose requests go through the front. */
  scheduler: TestEmulator['scheduler'];
  /** The harness with that client as its Scheduler client. */
  through: TestEmulator;
  close: () => Promise<void>;
}

export async function startFront(env: TestEmulator, rules: FrontRules): Promise<Front> {
  const server = createServer((request, response) => {
    const { path, headers } = rewrite(request.method ?? 'GET', request.url ?? '/', request.headers, rules);
    const emulator = new URL(env.emulator.url);
    const upstream = forward(
      { host: emulator.hostname, port: emulator.port, method: request.method, path, headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const scheduler = createSchedulerClient({ ...env.clientOptions, endpoint: url });
  const through = new Proxy(env, {
    get: (target, key) => (key === 'scheduler' ? scheduler : Reflect.get(target, key)),
  });
  return { url, scheduler, through, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function rewrite(
  method: string,
  target: string,
  incoming: IncomingHttpHeaders,
  rules: FrontRules,
): { path: string; headers: IncomingHttpHeaders } {
  const headers = { ...incoming };
  if (rules.normalizePath) {
    const url = new URL(target, 'http://front.local');
    return { path: `${url.pathname}${url.search}`, headers };
  }
  const [path = '', query = ''] = target.split('?');
  if (method !== 'GET') return { path: target, headers };
  if (path === '/schedules' && rules.dropListFilters) {
    const unfiltered = new URLSearchParams(query);
    unfiltered.delete('ScheduleGroup');
    unfiltered.delete('NamePrefix');
    return { path: `/schedules?${unfiltered}`, headers };
  }
  const name = path.startsWith('/schedules/') ? decodeURIComponent(path.slice('/schedules/'.length)) : '';
  const account = rules.otherAccountFor?.[name];
  const region = rules.otherRegionFor?.[name];
  if (typeof headers.authorization === 'string') {
    if (account)
      headers.authorization = headers.authorization.replace(/Credential=[^/]+\//, `Credential=${account}/`);
    if (region)
      headers.authorization = headers.authorization.replace(
        /(Credential=[^/]+\/\d+\/)[^/]+\//,
        `$1${region}/`,
      );
  }
  const to = rules.redirect?.[name];
  return { path: to ? `/schedules/${to}${query ? `?${query}` : ''}` : target, headers };
}
