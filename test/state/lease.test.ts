// The sweep lease against the emulated DynamoDB through the real SDK: one holder at a time, renewals
// only by the holder, takeover only after expiry, release only by the holder.
import { beforeEach, describe, expect, it } from 'vitest';
import { createDynamoLeaseStore, LEASE_KEY, type LeaseStore } from '../../src/state/lease.ts';
import { useTestEmulator } from '../support/emulator.ts';

const TABLE = 'sweep-state-lease-test';
const MINUTE = 60_000;
const start = new Date('2025-06-15T12:00:00Z');
const later = (minutes: number) => new Date(start.getTime() + minutes * MINUTE);

let lease: LeaseStore;

const env = useTestEmulator();

beforeEach(() => {
  env.emulator.services.dynamodb.reset();
  env.emulator.services.dynamodb.createTable(TABLE, { hash: 'pk' });
  lease = createDynamoLeaseStore(env.dynamodb, TABLE);
});

function storedHolder(): string | undefined {
  const item = env.emulator.services.dynamodb.items(TABLE).find((entry) => entry.pk?.S === LEASE_KEY);
  return item?.runId?.S;
}

describe('sweep lease', () => {
  it('is granted to the first run and refused to a second while it lasts, naming the holder', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE);

    // Act
    const second = await lease.acquire('run-b', later(10), 20 * MINUTE);

    // Assess
    expect(second).toEqual({ acquired: false, holder: 'run-a', leaseUntil: later(20) });
    expect(storedHolder()).toBe('run-a');
  });

  it('can be taken over once it has expired', async () => {
    await lease.acquire('run-a', start, 20 * MINUTE);

    const takeover = await lease.acquire('run-b', later(21), 20 * MINUTE);

    expect(takeover).toEqual({ acquired: true, runId: 'run-b', leaseUntil: later(41) });
    expect(storedHolder()).toBe('run-b');
  });

  it('is renewed by its holder, which keeps others out for longer', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE);

    // Act
    const renewed = await lease.renew('run-a', later(15), 20 * MINUTE, { from: 1, to: 2 });
    const intruder = await lease.acquire('run-b', later(25), 20 * MINUTE);

    // Assess
    expect(renewed).toBe(true);
    expect(intruder).toMatchObject({ acquired: false, holder: 'run-a', leaseUntil: later(35) });
  });

  it('is not renewed for a run that lost it', async () => {
    await lease.acquire('run-a', start, 20 * MINUTE);
    await lease.acquire('run-b', later(21), 20 * MINUTE);

    const renewed = await lease.renew('run-a', later(22), 20 * MINUTE, { from: 1, to: 2 });

    expect(renewed).toBe(false);
    expect(storedHolder()).toBe('run-b');
  });

  it('moves on once per invocation, so a second copy of the same continuation is refused', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE);

    // Act: invocation 2 arrives twice (the async queue delivers at least once)
    const first = await lease.renew('run-a', later(14), 20 * MINUTE, { from: 1, to: 2 });
    const duplicate = await lease.renew('run-a', later(14), 20 * MINUTE, { from: 1, to: 2 });
    const extended = await lease.renew('run-a', later(15), 20 * MINUTE, { from: 2, to: 2 });

    // Assess
    expect([first, duplicate, extended]).toEqual([true, false, true]);
  });

  it('is not renewed once released', async () => {
    await lease.acquire('run-a', start, 20 * MINUTE);
    await lease.release('run-a');

    expect(await lease.renew('run-a', later(1), 20 * MINUTE, { from: 1, to: 2 })).toBe(false);
  });

  it('is released by its holder only', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE);

    // Act
    await lease.release('run-b');
    const heldAfterStrangerRelease = storedHolder();
    await lease.release('run-a');

    // Assess
    expect(heldAfterStrangerRelease).toBe('run-a');
    expect(storedHolder()).toBeUndefined();
    expect(await lease.acquire('run-c', later(1), 20 * MINUTE)).toMatchObject({ acquired: true });
  });
});
