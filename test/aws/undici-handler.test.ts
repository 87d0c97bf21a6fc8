// The Scheduler client's request handler (src/aws/undici-handler.ts) through the production client
// against the emulator: aborts, lost answers and refused connections read as the SDK's own handler's
// errors do, so the budgets and the SDK's retries classify them alike.
import { DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import { isTransient } from '../../src/aws/budget.ts';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { oneTime } from '../sweep/fixtures.ts';

const env = useTestEmulator();

beforeEach(() => {
  env.emulator.services.scheduler.reset();
  env.emulator.plane.faults.configure({ record: true });
  env.emulator.plane.faults.clearRecord();
  env.emulator.services.scheduler.seed([oneTime({ name: 'target', at: '2025-06-01T00:00:00' })]);
});

const leanClient = (maxSockets: number) =>
  createSchedulerClient({ ...env.clientOptions, maxAttempts: 1, leanRequestPath: true, maxSockets });

const deletes = () =>
  env.emulator.plane.faults.applied().filter((entry) => entry.operation === 'DeleteSchedule');

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
    await new Promise((resolve) => setTimeout(resolve, 100));

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
    const lean = createSchedulerClient({
      ...env.clientOptions,
      endpoint,
      maxAttempts: 1,
      leanRequestPath: true,
    });
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
    const client = createSchedulerClient({
      ...env.clientOptions,
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts: 1,
      leanRequestPath: true,
    });

    const failure = await client
      .send(new GetScheduleCommand({ Name: 'target' }))
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isTransient(failure)).toBe(true);
  });
});
