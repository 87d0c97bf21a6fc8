// The Scheduler client's request handler (src/aws/undici-handler.ts) through the production client
// against the emulator: aborts, lost answers and refused connections read as the SDK's own handler's
// errors do, so the budgets and the SDK's retries classify them alike.
import { setMaxListeners } from 'node:events';
import { DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { isTransient } from '../../src/aws/budget.ts';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import { DepartureRefused, sendWithDepartureCheck } from '../../src/aws/departure.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { useTransportFixtures } from '../support/transport.ts';

const env = useTestEmulator();
const { leanClient, deletes } = useTransportFixtures(env);

describe('the undici request handler', () => {
  it('aborts a request queued for a connection at once, as an AbortError, and never sends it', async () => {
    // Prepare: the one connection is held by a ListSchedules page that takes 600 ms
    env.emulator.plane.faults.configure({
      record: true,
      rules: [{ kind: 'latency', service: 'scheduler', operation: 'ListSchedules', delayMs: 600, times: 1 }],
    });
    const client = leanClient(1);
    const slowPage = client.send(new ListSchedulesCommand({}));
    const abort = new AbortController();

    // Act
    const queued = client.send(new DeleteScheduleCommand({ Name: 'target' }), { abortSignal: abort.signal });
    const started = performance.now();
    setTimeout(() => abort.abort(new Error('deadline')), 50);
    const failure = await queued.catch((error: unknown) => error);
    const waited = performance.now() - started;
    await slowPage;

    // Assess: rejected before the page's answer freed the connection; the delete never left
    expect(failure).toMatchObject({ name: 'AbortError' });
    expect(waited).toBeLessThan(500);
    expect(deletes()).toHaveLength(0);
    expect(env.emulator.services.scheduler.has('default', 'target')).toBe(true);
    await expect(client.send(new GetScheduleCommand({ Name: 'target' }))).resolves.toMatchObject({
      Name: 'target',
    });
  });

  it('refuses a request whose signal has already aborted without sending it', async () => {
    const client = leanClient(1);
    const abort = new AbortController();
    abort.abort();

    const failure = await client
      .send(new DeleteScheduleCommand({ Name: 'target' }), { abortSignal: abort.signal })
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ name: 'AbortError' });
    expect(deletes()).toHaveLength(0);
  });

  it.each([
    ['reset-before', false],
    ['reset', true],
  ] as const)('reads a connection reset (%s the effect) as a transient ECONNRESET', async (kind, applied) => {
    env.emulator.plane.faults.configure({
      record: true,
      rules: [{ kind, service: 'scheduler', operation: 'DeleteSchedule', times: 1 }],
    });
    const client = leanClient(2);

    const failure = await client
      .send(new DeleteScheduleCommand({ Name: 'target' }))
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 'ECONNRESET' });
    expect(isTransient(failure)).toBe(true);
    expect(env.emulator.services.scheduler.has('default', 'target')).toBe(!applied);
  });

  it('reads a request cut off by destroy() as a transient ECONNRESET, as the SDK handler reads it', async () => {
    // Prepare: a ListSchedules page that takes 600 ms is in flight
    env.emulator.plane.faults.configure({
      record: true,
      rules: [{ kind: 'latency', service: 'scheduler', operation: 'ListSchedules', delayMs: 600, times: 1 }],
    });
    const client = leanClient(1);
    const inFlight = client.send(new ListSchedulesCommand({})).catch((error: unknown) => error);
    // Until the page holds the socket: the emulator has it in flight (not a fixed wait a loaded machine outlasts).
    while (env.emulator.plane.inFlight < 1) await new Promise((resolve) => setTimeout(resolve, 5));

    // Act
    client.destroy();
    const failure = await inFlight;

    // Assess
    expect(failure).toMatchObject({ code: 'ECONNRESET' });
    expect(isTransient(failure)).toBe(true);
  });

  it('takes a DeleteSchedule answered 200 with a body that is not JSON as the SDK does: deleted', async () => {
    // Prepare: a stand-in service that answers every request 200 with an HTML page
    const { createServer } = await import('node:http');
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>ok</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const lean = leanClient(4, { endpoint });
    const sdk = createSchedulerClient({ ...env.clientOptions, endpoint, maxAttempts: 1 });

    // Act
    const answers = await Promise.all(
      [lean, sdk].map((client) =>
        client.send(new DeleteScheduleCommand({ Name: 'target' })).catch((error: unknown) => error),
      ),
    );
    await new Promise((resolve) => server.close(resolve));

    // Assess
    for (const answer of answers) expect(answer).toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(answers[0]).not.toBeInstanceOf(Error);
    expect(answers[1]).not.toBeInstanceOf(Error);
  });

  it('reads a refused connection as a transient ECONNREFUSED', async () => {
    // Prepare: a port nothing listens on (the emulator's, after a server on it has closed)
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const client = leanClient(4, { endpoint: `http://127.0.0.1:${port}` });

    const failure = await client
      .send(new GetScheduleCommand({ Name: 'target' }))
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isTransient(failure)).toBe(true);
  });
});

/** A stand-in service that answers every request 200 `{}` after `delayMs`, counting connections. */
async function countingServer(delayMs: number) {
  const { createServer } = await import('node:http');
  const seen = { connections: 0, requests: [] as string[] };
  const server = createServer((request, response) => {
    seen.requests.push(`${request.method} ${request.url}`);
    request.resume();
    setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delayMs);
  });
  server.on('connection', () => {
    seen.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return { endpoint, seen, close };
}

describe('the undici request handler keeps its connection', () => {
  it('when a departure check refuses: the refused request is never written, the next one uses the same connection', async () => {
    const service = await countingServer(0);
    const client = leanClient(1, { endpoint: service.endpoint });

    const refused = await sendWithDepartureCheck(
      'token-keep',
      () => 'stale',
      () => client.send(new DeleteScheduleCommand({ Name: 'target', ClientToken: 'token-keep' })),
    ).catch((error: unknown) => error);
    await client.send(new GetScheduleCommand({ Name: 'target' }));
    await service.close();

    expect(refused).toBeInstanceOf(DepartureRefused);
    expect(service.seen.requests).toEqual(['GET /schedules/target']);
    expect(service.seen.connections).toBe(1);
  });

  it('when a departure check throws: the request is refused as not sent', async () => {
    const service = await countingServer(0);
    const client = leanClient(1, { endpoint: service.endpoint });

    const refused = await sendWithDepartureCheck(
      'token-throws',
      () => {
        throw new Error('broken check');
      },
      () => client.send(new DeleteScheduleCommand({ Name: 'target', ClientToken: 'token-throws' })),
    ).catch((error: unknown) => error);
    await service.close();

    expect(refused).toBeInstanceOf(DepartureRefused);
    expect(refused).toMatchObject({ notSent: true });
    expect(String((refused as Error).message)).toContain('broken check');
    expect(service.seen.requests).toEqual([]);
  });

  it('when requests queued for it are aborted: each is refused in turn, and the live one after them reuses it', async () => {
    // Prepare: the one connection is held by a request answered after 300 ms; 20 more queue behind it
    const service = await countingServer(300);
    const client = leanClient(1, { endpoint: service.endpoint });
    const first = client.send(new GetScheduleCommand({ Name: 'first' }));
    const abort = new AbortController();
    // One signal under 20 requests, as the sweep handler's deadline is under all of its own: its
    // owner lifts Node's listener warning the same way (src/handlers/sweep.ts).
    setMaxListeners(0, abort.signal);
    const queued = Array.from({ length: 20 }, (_, index) =>
      client
        .send(new GetScheduleCommand({ Name: `queued-${index}` }), { abortSignal: abort.signal })
        .catch((error: unknown) => error),
    );

    // Act: abort once they wait in the pool's queue
    await new Promise((resolve) => setTimeout(resolve, 50));
    abort.abort();
    const failures = await Promise.all(queued);
    await first;
    await client.send(new GetScheduleCommand({ Name: 'live' }));
    await service.close();

    // Assess
    for (const failure of failures) expect(failure).toMatchObject({ name: 'AbortError' });
    expect(service.seen.requests).toEqual(['GET /schedules/first', 'GET /schedules/live']);
    expect(service.seen.connections).toBe(1);
  });

  it("times a request out at its request timeout, to the tens of milliseconds, not at undici's one-second grain", async () => {
    const service = await countingServer(1_500);
    const client = leanClient(4, { endpoint: service.endpoint, requestTimeoutMs: 150 });
    const started = performance.now();

    const failure = await client
      .send(new GetScheduleCommand({ Name: 'slow' }))
      .catch((error: unknown) => error);
    const waited = performance.now() - started;
    await service.close();

    expect(failure).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(isTransient(failure)).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(600);
  });
});
