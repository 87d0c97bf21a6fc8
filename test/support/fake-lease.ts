// An in-memory LeaseStore with the conditions of the DynamoDB one (src/state/lease.ts), for the
// lifecycle stages' own tests: each write applies only where the real one's ConditionExpression
// would, and every write is recorded. The real store is tested against the emulator
// (test/state/lease.test.ts); this one only lets a stage be tested without it.
import {
  type LeaseFence,
  type LeaseRecord,
  type LeaseStore,
  leaseExpired,
  type StoredCheckpoint,
} from '../../src/state/lease.ts';

export interface FakeLeaseStore extends LeaseStore {
  /** The lease item as stored, or undefined when there is none. */
  item: LeaseRecord | undefined;
  /** Each write, in order: its operation and whether it applied. */
  writes: { operation: string; applied: boolean }[];
}

export function createFakeLeaseStore(item?: LeaseRecord): FakeLeaseStore {
  const store: FakeLeaseStore = {
    item,
    writes: [],
    async acquire(runId, now, durationMs, checkpoint) {
      const current = store.item;
      const free = !current || leaseExpired(current.leaseUntil, now) || current.runId === runId;
      record('acquire', free);
      if (!free) return { acquired: false, holder: current.runId, leaseUntil: current.leaseUntil };
      const leaseUntil = new Date(now.getTime() + durationMs);
      store.item = { runId, token: runId, invocation: 1, leaseUntil, ...withCheckpoint(checkpoint, runId) };
      return { acquired: true, runId, leaseUntil };
    },
    async read() {
      return store.item === undefined ? undefined : structuredClone(store.item);
    },
    async resume(found, token, invocation, now, durationMs, checkpoint) {
      const current = store.item;
      const applies =
        current !== undefined &&
        current.runId === found.runId &&
        ((current.token === found.token &&
          leaseExpired(current.leaseUntil, now) &&
          current.checkpoint?.seq === found.checkpoint?.seq &&
          current.checkpoint?.by === found.checkpoint?.by) ||
          (current.token === token && current.invocation === invocation));
      record('resume', applies);
      if (!applies || !current) return false;
      const leaseUntil = new Date(now.getTime() + durationMs);
      store.item = { ...current, token, invocation, leaseUntil, checkpoint: { ...checkpoint, by: token } };
      return true;
    },
    async checkpoint(runId, token, checkpoint) {
      const current = store.item;
      const applies =
        current !== undefined &&
        current.runId === runId &&
        current.token === token &&
        (current.checkpoint === undefined ||
          current.checkpoint.by !== token ||
          current.checkpoint.seq <= checkpoint.seq);
      record('checkpoint', applies);
      if (!applies || !current) return false;
      store.item = { ...current, checkpoint: { ...checkpoint, by: token } };
      return true;
    },
    async renew(runId, now, durationMs, fence: LeaseFence, checkpoint?: StoredCheckpoint) {
      const current = store.item;
      const applies =
        current !== undefined &&
        current.runId === runId &&
        (current.invocation === fence.from ||
          (fence.token !== undefined && current.invocation === fence.to && current.token === fence.token));
      record('renew', applies);
      if (!applies || !current) return false;
      const token = fence.token ?? current.token;
      store.item = {
        ...current,
        token,
        invocation: fence.to,
        leaseUntil: new Date(now.getTime() + durationMs),
        ...(checkpoint ? { checkpoint: { ...checkpoint, by: token } } : {}),
      };
      return true;
    },
    async release(runId, owner) {
      const current = store.item;
      const applies =
        current !== undefined &&
        current.runId === runId &&
        (owner === undefined ||
          current.token === owner.token ||
          (owner.orInvocation !== undefined && current.invocation === owner.orInvocation));
      record('release', applies);
      if (applies) store.item = undefined;
    },
  };
  function record(operation: string, applied: boolean) {
    store.writes.push({ operation, applied });
  }
  return store;
}

function withCheckpoint(checkpoint: StoredCheckpoint | undefined, by: string) {
  return checkpoint ? { checkpoint: { ...checkpoint, by } } : {};
}
