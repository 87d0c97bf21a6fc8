// The delete gate alone, with a stand-in Scheduler and a controlled monotonic clock (no emulator):
// every precondition is established at the moment the request would leave.
import type { GetScheduleCommandOutput, SchedulerClient, ScheduleSummary } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/aws/budget.ts';
import { departureCheckFor } from '../../src/aws/departure.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { createOwnershipLookup } from '../../src/ownership/cloudformation.ts';
import type { ProtectionCheck, ProtectionRead } from '../../src/protect/protection.ts';
import { DEPARTURES_BEFORE_KEEPING, type GateContext, passGate } from '../../src/sweep/gate.ts';
import type { Candidate } from '../../src/sweep/judge.ts';
import type { TombstoneOutcome, TombstoneWriter } from '../../src/sweep/tombstones.ts';

const NOW = new Date('2025-06-15T12:00:00Z');
const definition = (modified: string): GetScheduleCommandOutput => ({
  $metadata: {},
  Arn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/s1',
  Name: 's1',
  GroupName: 'default',
  ScheduleExpression: 'at(2025-06-01T00:00:00)',
  State: 'ENABLED',
  ActionAfterCompletion: 'NONE',
  FlexibleTimeWindow: { Mode: 'OFF' },
  CreationDate: new Date('2025-05-01T00:00:00Z'),
  LastModificationDate: new Date(modified),
  Target: { Arn: 'arn:aws:sqs:us-east-1:123456789012:q', RoleArn: 'arn:aws:iam::123456789012:role/r' },
});
const summary: ScheduleSummary = {
  Name: 's1',
  GroupName: 'default',
  Arn: definition('2025-05-01T00:00:00Z').Arn,
};

/** A stand-in Scheduler: each request takes `latencyMs` of the controlled clock; deletes pass the departure check. */
function world(
  options: {
    latencyMs?: number;
    queueMs?: number;
    modifiedOnReread?: string;
    deleteAnswer?: 'ok' | '404' | 'lostThenRecreated';
  } = {},
) {
  let clock = 0;
  let lost = false;
  let recreated = false;
  const calls: string[] = [];
  const settled: TombstoneOutcome[] = [];
  let released = 0;
  const scheduler = {
    async send(command: { constructor: { name: string }; input: { ClientToken?: string } }) {
      const operation = command.constructor.name.replace('Command', '');
      calls.push(operation);
      if (operation === 'DeleteSchedule') {
        clock += options.queueMs ?? 0; // waiting for a socket
        const refusal = departureCheckFor(command.input.ClientToken ?? '')?.();
        if (refusal !== undefined) {
          const { DepartureRefused } = await import('../../src/aws/departure.ts');
          calls.push(`refused: ${refusal}`);
          throw new DepartureRefused(refusal);
        }
        clock += options.latencyMs ?? 0;
        if (options.deleteAnswer === 'lostThenRecreated' && !lost) {
          // Applied, its answer lost (a 5xx after applying); the application creates the name again
          lost = true;
          recreated = true;
          clock += 500;
          throw Object.assign(new Error('lost'), {
            name: 'InternalServerException',
            $metadata: { httpStatusCode: 500 },
            $fault: 'server',
          });
        }
        if (options.deleteAnswer === '404') {
          throw Object.assign(new Error('gone'), {
            name: 'ResourceNotFoundException',
            $metadata: { httpStatusCode: 404 },
            $fault: 'client',
          });
        }
        return {};
      }
      clock += options.latencyMs ?? 0;
      if (recreated)
        return { ...definition('2025-06-15T12:00:00Z'), CreationDate: new Date('2025-06-15T12:00:00Z') };
      return definition(options.modifiedOnReread ?? '2025-05-01T00:00:00Z');
    },
  } as unknown as SchedulerClient;
  const tombstones: TombstoneWriter = {
    write: async () => ({ key: 'k' }),
    settle: (_receipt, outcome) => settled.push(outcome),
    flush: async () => {},
  };
  const budget = (name: string) => new RequestBudget(name, { ratePerSecond: 1e6, sleep: async () => {} });
  const context = (protection?: ProtectionCheck): GateContext => ({
    scheduler,
    clock: () => NOW,
    log: createMemoryLogger(),
    budgets: { get: budget('GetSchedule'), delete: budget('DeleteSchedule') },
    dryRun: false,
    graceMs: 0,
    keepDisabled: false,
    tombstones,
    ...(protection ? { protection } : {}),
    allowance: {
      reserve: () => true,
      release: () => {
        released += 1;
      },
    },
    runId: 'run',
    recheckAfterMs: 100,
    protectionMaxAgeMs: 10_000,
    now: () => clock,
  });
  const candidate = (answeredAt = 0): Candidate => ({
    kind: 'candidate',
    summary,
    schedule: definition('2025-05-01T00:00:00Z'),
    answeredAt,
    decision: { outcome: 'finished', finishedAt: new Date('2025-06-02T00:00:00Z'), stuck: false },
  });
  return {
    calls,
    settled,
    context,
    candidate,
    advance: (ms: number) => {
      clock += ms;
    },
    at: () => clock,
    released: () => released,
  };
}

describe('delete gate', () => {
  it('sends at once when the definition was answered within the re-read window', async () => {
    const w = world();
    const outcome = await passGate(w.candidate(), w.context());
    expect(outcome.kind).toBe('deleted');
    expect(w.calls).toEqual(['DeleteSchedule']);
    expect(w.settled).toEqual(['deleted']);
  });

  it('reads the schedule again when the delete would leave after the window, and keeps it if it changed', async () => {
    const w = world({ modifiedOnReread: '2025-06-15T11:59:59Z' });
    w.advance(150);
    const outcome = await passGate(w.candidate(), w.context());
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'changedDuringSweep', rereads: 1 });
    expect(w.calls).toEqual(['GetSchedule']);
    expect(w.settled).toEqual(['notSent']);
  });

  it('refuses a delete that waited for its socket past the window at departure, reads again, then sends', async () => {
    // 250 ms in the socket queue once: the first departure is refused, the re-read makes it current
    let queued = false;
    const w = world();
    const context = w.context();
    const send = context.scheduler.send.bind(context.scheduler);
    context.scheduler.send = (async (command: { constructor: { name: string }; input: object }) => {
      if (command.constructor.name === 'DeleteScheduleCommand' && !queued) {
        queued = true;
        w.advance(250);
      }
      return send(command as never);
    }) as never;
    const outcome = await passGate(w.candidate(), context);
    expect(outcome).toMatchObject({ kind: 'deleted', rereads: 1 });
    expect(w.calls).toEqual([
      'DeleteSchedule',
      'refused: definition read too long ago',
      'GetSchedule',
      'DeleteSchedule',
    ]);
  });

  it(`keeps the schedule when no departure is current after ${DEPARTURES_BEFORE_KEEPING} tries (a pool that stays full)`, async () => {
    const w = world({ queueMs: 500 });
    const outcome = await passGate(w.candidate(), w.context());
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'staleAtDeparture' });
    expect(w.calls.filter((call) => call.startsWith('refused'))).toHaveLength(DEPARTURES_BEFORE_KEEPING);
    expect(w.settled).toEqual(['notSent']);
  });

  it('keeps a schedule protected at the gate, and reads protection again when it aged past its bound', async () => {
    const reads: number[] = [];
    const w = world();
    let protectedNow = false;
    const protection: ProtectionCheck = {
      check: async () => undefined,
      confirm: async (): Promise<ProtectionRead> => {
        reads.push(w.at());
        return protectedNow
          ? { verdict: { kind: 'protected', by: 'restoredKeep' }, readAt: w.at(), nameAnsweredAt: w.at() }
          : { verdict: undefined, readAt: w.at(), nameAnsweredAt: w.at() };
      },
    };
    // The first confirmation is current; the tombstone write then takes 11 s, and meanwhile a
    // restore protects the name: the gate reads protection again before the delete leaves.
    const context = w.context(protection);
    const write = context.tombstones.write;
    context.tombstones.write = async (entry) => {
      w.advance(11_000);
      protectedNow = true;
      return write(entry);
    };
    const outcome = await passGate(w.candidate(), context);
    expect(outcome).toMatchObject({ kind: 'protected', by: 'restoredKeep' });
    expect(reads).toHaveLength(2);
    expect(w.calls.filter((call) => call === 'DeleteSchedule')).toHaveLength(0);
    expect(w.settled).toEqual(['notSent']);
  });

  it("records 'gone' when its only delete was answered 404: the sweep removed nothing", async () => {
    const w = world({ deleteAnswer: '404' });
    const outcome = await passGate(w.candidate(), w.context());
    expect(outcome).toEqual({ kind: 'alreadyGone', finished: true });
    expect(w.settled).toEqual(['gone']);
  });

  describe('CloudFormation ownership at the gate', () => {
    const readAt = '2025-06-15T11:00:00Z';
    const created = { ...summary, CreationDate: new Date('2025-05-01T00:00:00Z') };
    const withOwnership = (index: Parameters<typeof createOwnershipLookup>[0]) => {
      const w = world();
      const context = { ...w.context(), ownership: createOwnershipLookup(index) };
      return { w, context, candidate: { ...w.candidate(), summary: created } };
    };
    const index = (stacks: Record<string, string[]>, complete = true) => ({
      readAt,
      complete,
      stacks,
      stacksRead: 1,
      requests: 2,
    });

    it('keeps a candidate a stack declares, naming the stack, with no tombstone and no request', async () => {
      const { w, context, candidate } = withOwnership(index({ 'reminders-stack': ['s1'] }));
      const outcome = await passGate(candidate, context);
      expect(outcome).toEqual({ kind: 'skipped', reason: 'cloudFormationOwned', stack: 'reminders-stack' });
      expect(w.calls).toEqual([]);
      expect(w.settled).toEqual([]);
    });

    it.each([
      ['no index could be read', undefined],
      ['the index is incomplete', index({}, false)],
    ])('keeps a candidate whose ownership is unknown (%s), in a dry run too', async (_, read) => {
      for (const dryRun of [false, true]) {
        const { w, context, candidate } = withOwnership(read);
        const outcome = await passGate(candidate, { ...context, dryRun });
        expect(outcome).toEqual({ kind: 'skipped', reason: 'ownershipUnknown' });
        expect(w.calls).toEqual([]);
      }
    });

    it('deletes a candidate no stack declares', async () => {
      const { w, context, candidate } = withOwnership(index({ 'reminders-stack': ['other'] }));
      expect((await passGate(candidate, context)).kind).toBe('deleted');
      expect(w.calls).toEqual(['DeleteSchedule']);
    });
  });

  it('keeps the maxDeletes claim and counts it uncertain when a lost delete is followed by a schedule created again under its name', async () => {
    const w = world({ deleteAnswer: 'lostThenRecreated' });
    const outcome = await passGate(w.candidate(), w.context());
    expect(outcome).toMatchObject({ kind: 'failed', operation: 'DeleteSchedule', outcomeUnknown: true });
    expect(w.released()).toBe(0);
    expect(w.calls.filter((call) => call === 'DeleteSchedule')).toHaveLength(1);
    expect(w.settled).toEqual(['unknown']);
  });

  it('reads a protected name again when its answer aged past the re-read window: restore --keep of an existing schedule during a slow tombstone write', async () => {
    let protectedNow = false;
    const w = world();
    const reads: number[] = [];
    const protection: ProtectionCheck = {
      check: async () => undefined,
      confirm: async (): Promise<ProtectionRead> => {
        reads.push(w.at());
        return {
          verdict: protectedNow ? { kind: 'protected', by: 'restoredKeep' } : undefined,
          readAt: w.at(),
          nameAnsweredAt: w.at(),
        };
      },
    };
    const context = w.context(protection);
    const write = context.tombstones.write;
    context.tombstones.write = async (entry) => {
      w.advance(3_000); // 300 ms in, the operator runs restore --keep
      protectedNow = true;
      return write(entry);
    };
    const outcome = await passGate(w.candidate(), context);
    expect(outcome).toMatchObject({ kind: 'protected', by: 'restoredKeep' });
    expect(reads).toHaveLength(2);
    expect(w.calls.filter((call) => call === 'DeleteSchedule')).toHaveLength(0);
  });
});
