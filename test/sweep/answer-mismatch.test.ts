// A GetSchedule answered with another schedule's definition (something between the sweeper and
// Scheduler routing the request elsewhere) must never delete the schedule asked for: the judge keeps it
// as `answerMismatch`, and the gate's re-read counts such an answer as a change. Through the real SDK
// against the emulator, with a front that sends one name's lookups to another name.
import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type TestEmulator, useTestEmulator } from '../support/emulator.ts';
import { resetForTombstones, storedTombstones, tombstoneSweepHandler } from '../support/tombstones.ts';
import { oneTime } from './fixtures.ts';

const env = useTestEmulator();
const NOW = new Date('2025-06-15T12:00:00Z');
const STATE_TABLE = 'schedule-hygiene-test-mismatch-state';

beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

/** Lookups of `/schedules/<from>` (any group) go to `/schedules/<to>`; every other request passes. */
const REDIRECTS: Record<string, string> = { 'live-reminder': 'finished-reminder' };
/** Lookups of this name are answered from another account (a cache shared across accounts). */
const FROM_ANOTHER_ACCOUNT = 'shared-name';
const OTHER_ACCOUNT = '222222222222';

let frontUrl = '';
let closeFront: () => Promise<void> = async () => {};
beforeAll(async () => {
  const front = createServer((request, response) => {
    const [path = '', query = ''] = (request.url ?? '/').split('?');
    const name = path.startsWith('/schedules/') ? path.slice('/schedules/'.length) : '';
    const to = request.method === 'GET' ? REDIRECTS[name] : undefined;
    // ListSchedules with its filters dropped: every group, every name.
    const unfiltered = new URLSearchParams(query);
    unfiltered.delete('ScheduleGroup');
    unfiltered.delete('NamePrefix');
    const listPath =
      request.method === 'GET' && path === '/schedules' ? `/schedules?${unfiltered}` : undefined;
    const headers = { ...request.headers };
    // The emulator takes the account from the signature's access key (docs/emulator.md).
    if (
      request.method === 'GET' &&
      name === FROM_ANOTHER_ACCOUNT &&
      typeof headers.authorization === 'string'
    )
      headers.authorization = headers.authorization.replace(
        /Credential=[^/]+\//,
        `Credential=${OTHER_ACCOUNT}/`,
      );
    const emulator = new URL(env.emulator.url);
    const upstream = forward(
      {
        host: emulator.hostname,
        port: emulator.port,
        method: request.method,
        path: to ? `/schedules/${to}${query ? `?${query}` : ''}` : (listPath ?? request.url),
        headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  closeFront = () => new Promise((resolve) => front.close(() => resolve()));
});
afterAll(() => closeFront());

function throughFront(): TestEmulator {
  const scheduler = createSchedulerClient({ ...env.clientOptions, endpoint: frontUrl });
  return new Proxy(env, {
    get: (target, key) => (key === 'scheduler' ? scheduler : Reflect.get(target, key)),
  });
}

describe('a GetSchedule answered with another schedule', () => {
  it('keeps the schedule asked for as answerMismatch, untombstoned, and sweeps the others', async () => {
    // Prepare: a live reminder whose lookups the front answers with a finished one's definition
    env.emulator.services.scheduler.seed([
      oneTime({ name: 'live-reminder', at: '2025-07-01T09:00:00' }),
      oneTime({ name: 'finished-reminder', at: '2025-06-01T09:00:00' }),
    ]);
    const log = createMemoryLogger();

    // Act
    const summary = await tombstoneSweepHandler(throughFront(), {
      stateTable: STATE_TABLE,
      namespace: 'MismatchTest',
      log,
    })({});

    // Assess: the emulator's own record; the live schedule stays, and no tombstone holds its name
    expect(env.emulator.services.scheduler.has('default', 'live-reminder')).toBe(true);
    expect(env.emulator.services.scheduler.has('default', 'finished-reminder')).toBe(false);
    expect(summary).toMatchObject({ status: 'finished', deleted: 1, failed: 0 });
    expect((summary as { skipped?: Record<string, number> }).skipped?.answerMismatch).toBe(1);
    expect((await storedTombstones(env)).map((tombstone) => tombstone.name)).toEqual(['finished-reminder']);
    const skipLines = log.lines.filter((line) => line.reason === 'answerMismatch');
    expect(skipLines).toEqual([expect.objectContaining({ name: 'live-reminder', group: 'default' })]);
  });

  it('keeps what a listing answered outside the configured groups and name prefix', async () => {
    // Prepare: finished schedules in and out of scope; the front drops the listing's filters
    env.emulator.services.scheduler.createGroup('orders');
    env.emulator.services.scheduler.createGroup('payments');
    const at = '2025-06-01T09:00:00';
    env.emulator.services.scheduler.seed([
      oneTime({ name: 'reminder-1', group: 'orders', at }),
      oneTime({ name: 'invoice-1', group: 'orders', at }),
      oneTime({ name: 'reminder-2', group: 'payments', at }),
      oneTime({ name: 'reminder-3', at }),
    ]);

    // Act
    const summary = await tombstoneSweepHandler(throughFront(), {
      stateTable: STATE_TABLE,
      namespace: 'MismatchTest',
      log: createMemoryLogger(),
      settings: { SWEEP_GROUPS: 'orders' },
    })({ namePrefix: 'reminder-' });

    // Assess: only orders/reminder-1 was in scope; the emulator's record says the rest stayed
    const present = (group: string, name: string) => env.emulator.services.scheduler.has(group, name);
    expect(present('orders', 'reminder-1')).toBe(false);
    expect([
      present('orders', 'invoice-1'),
      present('payments', 'reminder-2'),
      present('default', 'reminder-3'),
    ]).toEqual([true, true, true]);
    expect(summary).toMatchObject({ status: 'finished', deleted: 1, failed: 0 });
    expect((summary as { skipped?: Record<string, number> }).skipped?.answerMismatch).toBe(3);
  });

  it("keeps a schedule whose lookup answered another account's schedule of the same name", async () => {
    // Prepare: live here, finished in the other account, the same group and name
    env.emulator.services.scheduler.seed([
      oneTime({ name: FROM_ANOTHER_ACCOUNT, at: '2025-07-01T09:00:00' }),
    ]);
    env.emulator.services
      .scope(OTHER_ACCOUNT, 'us-east-1')
      .scheduler.seed([oneTime({ name: FROM_ANOTHER_ACCOUNT, at: '2025-06-01T09:00:00' })]);

    // Act
    const summary = await tombstoneSweepHandler(throughFront(), {
      stateTable: STATE_TABLE,
      namespace: 'MismatchTest',
      log: createMemoryLogger(),
    })({});

    // Assess: the emulator's record; nothing deleted or tombstoned on the other account's answer
    expect(env.emulator.services.scheduler.has('default', FROM_ANOTHER_ACCOUNT)).toBe(true);
    expect(summary).toMatchObject({ status: 'finished', deleted: 0, failed: 0 });
    expect((summary as { skipped?: Record<string, number> }).skipped?.answerMismatch).toBe(1);
    expect(await storedTombstones(env)).toEqual([]);
  });
});
