// The sweep lease against the emulated DynamoDB through the real SDK: one holder at a time, renewals
// only by the holder, takeover only after expiry, release only by the holder.
import { beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../src/aws/clients.ts';
import {
  CLOCK_SKEW_BOUND_MS,
  createDynamoLeaseStore,
  LEASE_KEY,
  type LeaseStore,
} from '../../src/state/lease.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { loseAnswers, onItem } from '../support/lost-answers.ts';

const TABLE = 'sweep-state-lease-test';
const MINUTE = 60_000;
const start = new Date('2025-06-15T12:00:00Z');
const later = (minutes: number) => new Date(start.getTime() + minutes * MINUTE);
/** In minutes: the clock skew bound a taker allows a lease past its expiry. */
const SKEW = CLOCK_SKEW_BOUND_MS / MINUTE;

let lease: LeaseStore;

const env = useTestEmulator();

beforeEach(async () => {
  await env.emulator.services.dynamodb.reset();
  await env.emulator.services.dynamodb.createTable(TABLE, { hash: 'pk' });
  lease = createDynamoLeaseStore(env.dynamodb, TABLE);
});

async function storedHolder(): Promise<string | undefined> {
  const item = (await env.emulator.services.dynamodb.items(TABLE)).find((entry) => entry.pk?.S === LEASE_KEY);
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
    expect(await storedHolder()).toBe('run-a');
  });

  it('can be taken over once it has expired by more than the clock skew bound', async () => {
    await lease.acquire('run-a', start, 20 * MINUTE);

    const skewed = await lease.acquire('run-b', later(20 + SKEW), 20 * MINUTE);
    const takeover = await lease.acquire('run-b', later(21 + SKEW), 20 * MINUTE);

    expect(skewed).toEqual({ acquired: false, holder: 'run-a', leaseUntil: later(20) });
    expect(takeover).toEqual({ acquired: true, runId: 'run-b', leaseUntil: later(41 + SKEW) });
    expect(await storedHolder()).toBe('run-b');
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
    await lease.acquire('run-b', later(21 + SKEW), 20 * MINUTE);

    const renewed = await lease.renew('run-a', later(22 + SKEW), 20 * MINUTE, { from: 1, to: 2 });

    expect(renewed).toBe(false);
    expect(await storedHolder()).toBe('run-b');
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
    const heldAfterStrangerRelease = await storedHolder();
    await lease.release('run-a');

    // Assess
    expect(heldAfterStrangerRelease).toBe('run-a');
    expect(await storedHolder()).toBeUndefined();
    expect(await lease.acquire('run-c', later(1), 20 * MINUTE)).toMatchObject({ acquired: true });
  });
});

describe('sweep lease under lost answers (the SDK retries a write that already applied)', () => {
  /** A store on a client with the SDK's default retries, whose chosen answers are lost after the write. */
  function lossyLease(command: string, occurrences = [1]) {
    const client = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(client, [{ command, occurrences, when: onItem(LEASE_KEY) }]);
    return { store: createDynamoLeaseStore(client, TABLE), faults };
  }

  it('regression: a first acquire whose answer was lost holds the lease, not "alreadyRunning" with itself as holder', async () => {
    // Prepare
    const { store, faults } = lossyLease('PutItemCommand');

    // Act
    const result = await store.acquire('run-a', start, 20 * MINUTE);

    // Assess
    expect(faults.lost()).toBe(1);
    expect(result).toEqual({ acquired: true, runId: 'run-a', leaseUntil: later(20) });
    expect(await storedHolder()).toBe('run-a');
  });

  it('regression: a renew whose answer was lost recognises its own success when the SDK retries it', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE);
    const { store, faults } = lossyLease('UpdateItemCommand');

    // Act
    const renewed = await store.renew('run-a', later(14), 20 * MINUTE, { from: 1, to: 2, token: 'inv-2' });

    // Assess
    expect(faults.lost()).toBe(1);
    expect(renewed).toBe(true);
  });

  it('still refuses another copy of the same continuation, which carries its own token', async () => {
    // Prepare: the first copy moved the run to invocation 2
    await lease.acquire('run-a', start, 20 * MINUTE);
    await lease.renew('run-a', later(14), 20 * MINUTE, { from: 1, to: 2, token: 'copy-1' });

    // Act
    const copy = await lease.renew('run-a', later(14), 20 * MINUTE, { from: 1, to: 2, token: 'copy-2' });
    const original = await lease.renew('run-a', later(15), 20 * MINUTE, { from: 2, to: 2, token: 'copy-1' });

    // Assess
    expect([copy, original]).toEqual([false, true]);
  });

  it('a release whose answer was lost leaves the lease free, and a release with a stranger token leaves it held', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE);
    await lease.renew('run-a', later(14), 20 * MINUTE, { from: 1, to: 2, token: 'inv-2' });
    const { store, faults } = lossyLease('DeleteItemCommand');

    // Act
    await lease.release('run-a', { token: 'inv-3' });
    const heldAfterStranger = await storedHolder();
    await store.release('run-a', { token: 'inv-2' });

    // Assess
    expect(heldAfterStranger).toBe('run-a');
    expect(faults.lost()).toBe(1);
    expect(await storedHolder()).toBeUndefined();
  });

  it('a release that names the invocation it found frees a lease its own renew never reached', async () => {
    // Prepare: invocation 2's renew did not apply; the run stands at invocation 1
    await lease.acquire('run-a', start, 20 * MINUTE);

    // Act
    await lease.release('run-a', { token: 'inv-2', orInvocation: 1 });

    // Assess
    expect(await storedHolder()).toBeUndefined();
  });
});

describe('sweep lease checkpoints', () => {
  const body = (text: string) => ({ seq: 0, body: text });

  it('are written only by the invocation holding the lease, never over a later one of its own', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE, body('start'));

    // Act
    const own = await lease.checkpoint('run-a', 'run-a', { seq: 2, body: 'second' });
    const older = await lease.checkpoint('run-a', 'run-a', { seq: 1, body: 'first' });
    const stranger = await lease.checkpoint('run-a', 'inv-9', { seq: 5, body: 'stranger' });
    const otherRun = await lease.checkpoint('run-b', 'run-b', { seq: 5, body: 'other run' });

    // Assess
    expect([own, older, stranger, otherRun]).toEqual([true, false, false, false]);
    expect((await lease.read())?.checkpoint).toEqual({ seq: 2, body: 'second', by: 'run-a' });
  });

  it('written with a renew, carry the renewing token; a lease expires after the time it was given', async () => {
    // Prepare
    await lease.acquire('run-a', start, 16 * MINUTE, body('start'));

    // Act
    await lease.renew(
      'run-a',
      later(14),
      5 * MINUTE,
      { from: 1, to: 1, token: 'run-a' },
      { seq: 3, body: 'hand-off' },
    );
    const record = await lease.read();

    // Assess
    expect(record).toEqual({
      runId: 'run-a',
      token: 'run-a',
      invocation: 1,
      leaseUntil: later(19),
      checkpoint: { seq: 3, body: 'hand-off', by: 'run-a' },
    });
  });

  it('regression: a checkpoint whose answer was lost recognises its own success when the SDK retries it', async () => {
    // Prepare
    await lease.acquire('run-a', start, 20 * MINUTE, body('start'));
    const client = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(client, [
      { command: 'UpdateItemCommand', occurrences: [1], when: onItem(LEASE_KEY) },
    ]);
    const store = createDynamoLeaseStore(client, TABLE);

    // Act
    const stored = await store.checkpoint('run-a', 'run-a', { seq: 1, body: 'one' });

    // Assess
    expect(faults.lost()).toBe(1);
    expect(stored).toBe(true);
  });

  it('an expired lease is resumed once: a second resumer, or a resume of a live lease, is refused; a retried resume succeeds', async () => {
    // Prepare
    await lease.acquire('run-a', start, 16 * MINUTE, body('start'));
    const live = await lease.read();
    const early = await lease.resume(live!, 'inv-x', 2, later(15), 16 * MINUTE, { seq: 0, body: 'x' });
    const withinSkew = await lease.resume(live!, 'inv-y', 2, later(16 + SKEW), 16 * MINUTE, {
      seq: 0,
      body: 'y',
    });
    const found = await lease.read();
    const client = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(client, [
      { command: 'UpdateItemCommand', occurrences: [1], when: onItem(LEASE_KEY) },
    ]);

    // Act
    const first = await createDynamoLeaseStore(client, TABLE).resume(
      found!,
      'inv-r',
      2,
      later(17 + SKEW),
      16 * MINUTE,
      {
        seq: 0,
        body: 'resumed',
      },
    );
    const second = await lease.resume(found!, 'inv-s', 2, later(17 + SKEW), 16 * MINUTE, {
      seq: 0,
      body: 'again',
    });

    // Assess
    expect(early).toBe(false);
    expect(withinSkew).toBe(false);
    expect(faults.lost()).toBe(1);
    expect([first, second]).toEqual([true, false]);
    expect(await lease.read()).toEqual({
      runId: 'run-a',
      token: 'inv-r',
      invocation: 2,
      leaseUntil: later(33 + SKEW),
      checkpoint: { seq: 0, body: 'resumed', by: 'inv-r' },
    });
  });
});
