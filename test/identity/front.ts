// A front between the SDK and the emulator that answers chosen lookups from another account or Region
// (as a cache or proxy shared across them might), for the tests of answersFor (src/schedule/name.ts).
import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import type { TestEmulator } from '../support/emulator.ts';

export interface FrontConfig {
  /** GETs of /schedules/<name> sent with this account's access key (emulator routes by it). */
  otherAccountFor?: Record<string, string>;
  /** Region substitution in the credential scope for GETs of these names. */
  otherRegionFor?: Record<string, string>;
  /** Only from the Nth GET (1-based) of a name on. */
  fromNthGet?: number;
  /** Drop Arn from ListSchedules summaries. */
  stripListArn?: boolean;
  /** Rewrite the Arn of GetSchedule answers. */
  rewriteGetArn?: (arn: string) => string;
  /** Rewrite the Arn of ListSchedules summaries. */
  rewriteListArn?: (arn: string) => string;
}

export async function startFront(env: TestEmulator, config: FrontConfig) {
  const gets = new Map<string, number>();
  const log: string[] = [];
  const front = createServer((request, response) => {
    const [path = ''] = (request.url ?? '/').split('?');
    const name = path.startsWith('/schedules/') ? decodeURIComponent(path.slice('/schedules/'.length)) : '';
    const headers = { ...request.headers };
    const isGet = request.method === 'GET' && name !== '';
    const isList = request.method === 'GET' && path === '/schedules';
    let nth = 0;
    if (isGet) {
      nth = (gets.get(name) ?? 0) + 1;
      gets.set(name, nth);
    }
    const active = isGet && nth >= (config.fromNthGet ?? 1);
    const account = active ? config.otherAccountFor?.[name] : undefined;
    const region = active ? config.otherRegionFor?.[name] : undefined;
    if (typeof headers.authorization === 'string') {
      if (account)
        headers.authorization = headers.authorization.replace(/Credential=[^/]+\//, `Credential=${account}/`);
      if (region)
        headers.authorization = headers.authorization.replace(
          /(Credential=[^/]+\/\d+\/)[^/]+\//,
          `$1${region}/`,
        );
    }
    log.push(
      `${request.method} ${request.url}${account ? ` ->${account}` : ''}${region ? ` ->${region}` : ''}`,
    );
    const emulator = new URL(env.emulator.url);
    const upstream = forward(
      { host: emulator.hostname, port: emulator.port, method: request.method, path: request.url, headers },
      (answer) => {
        const rewrite =
          (isList && (config.stripListArn || config.rewriteListArn)) ||
          (isGet && config.rewriteGetArn && active);
        if (!rewrite || answer.statusCode !== 200) {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (isList) {
            for (const summary of body.Schedules ?? []) {
              if (config.stripListArn) delete summary.Arn;
              else if (config.rewriteListArn) summary.Arn = config.rewriteListArn(summary.Arn);
            }
          } else if (config.rewriteGetArn) body.Arn = config.rewriteGetArn(body.Arn);
          const text = Buffer.from(JSON.stringify(body));
          const outHeaders = { ...answer.headers, 'content-length': String(text.length) };
          response.writeHead(200, outHeaders);
          response.end(text);
        });
      },
    );
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const scheduler = createSchedulerClient({ ...env.clientOptions, endpoint: url, maxAttempts: 1 });
  const through = new Proxy(env, {
    get: (target, key) => (key === 'scheduler' ? scheduler : Reflect.get(target, key)),
  }) as TestEmulator;
  return {
    url,
    scheduler,
    through,
    log,
    close: () => new Promise<void>((resolve) => front.close(() => resolve())),
  };
}
