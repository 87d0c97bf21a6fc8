import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isNotFound,
  isThrottling,
  isTransient,
  RELEASE_TICK_MS,
  RequestBudget,
  releaseTickFor,
} from '../../src/aws/budget.ts';

/** A virtual clock: sleeping advances time instantly, so pacing is measured, not waited for. */
function virtualTime() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const throttle = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 429 },
  });
const serverError = () =>
  Object.assign(new Error('boom'), { name: 'InternalServerException', $metadata: { httpStatusCode: 500 } });
const validationError = () =>
  Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });

/**
 * A virtual clock for many waiters at once: sleeps wake in time order, each at its own instant, and
 * `run` drives them until every call settled. Timers are not raced: nothing waits for real time.
 */
function eventTime() {
  let now = 0;
  const sleepers: { at: number; wake: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) =>
      new Promise<void>((wake) => {
        sleepers.push({ at: now + ms, wake });
      }),
    async run<T>(work: Promise<T>): Promise<T> {
      let settled = false;
      const done = work.finally(() => {
        settled = true;
      });
      for (;;) {
        // Let every call that can move reach its next sleep (or its end).
        for (let turn = 0; turn < 20; turn++) await Promise.resolve();
        if (settled || sleepers.length === 0) break;
        sleepers.sort((left, right) => left.at - right.at);
        const next = sleepers.shift()!;
        now = Math.max(now, next.at);
        next.wake();
      }
      return done;
    },
  };
}

/** A budget at the default headroom (so with release ticks) on an event clock. */
function tickedBudget(ratePerSecond: number) {
  const time = eventTime();
  const budget = new RequestBudget('GetSchedule', { ratePerSecond, now: time.now, sleep: time.sleep });
  return { time, budget };
}

describe('RequestBudget release ticks', () => {
  it('uses a 10 ms tick at the default headroom, a shorter one where the headroom is thin, none without', () => {
    expect(new RequestBudget('GetSchedule', { ratePerSecond: 1000 }).releaseTickMs).toBe(RELEASE_TICK_MS);
    expect(RELEASE_TICK_MS).toBe(10);
    expect(releaseTickFor(0.995)).toBe(4);
    expect(releaseTickFor(1)).toBe(0);
    expect(new RequestBudget('GetSchedule', { ratePerSecond: 1000, headroom: 1 }).releaseTickMs).toBe(0);
  });

  it('releases each waiting request at the first tick after its slot (at most 1 ms early), within the documented bound a second', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 20, max: 2_000 }),
        // Gaps between arrivals (ms): 0 for a burst, else a lull of up to 400 ms.
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })), {
          minLength: 50,
          maxLength: 400,
        }),
        async (ratePerSecond, arrivalGapsMs) => {
          // Prepare: the default headroom, requests arriving in bursts and lulls.
          const { time, budget } = tickedBudget(ratePerSecond);
          const spacing = 1000 / budget.maxRate;
          const sends: { slot: number; at: number }[] = [];
          let expectedSlot = 0;
          const arrivals = async () => {
            const calls: Promise<unknown>[] = [];
            for (const gap of arrivalGapsMs) {
              if (gap > 0) await time.sleep(gap);
              // The slot even spacing gives this request: its arrival, or the previous slot's successor.
              const slot = Math.max(time.now(), expectedSlot);
              expectedSlot = slot + spacing;
              calls.push(budget.call(async () => sends.push({ slot, at: time.now() })));
            }
            await Promise.all(calls);
          };

          // Act
          await time.run(arrivals());

          // Assess: each request left at its slot (it had come) or at the first tick after it; a wait
          // under 1 ms (a timer's resolution) is not waited, so at most 1 ms before that tick.
          for (const { slot, at } of sends) {
            expect(at).toBeGreaterThanOrEqual(slot - 1);
            expect(at).toBeLessThan(slot + RELEASE_TICK_MS);
            if (at > slot) expect(at % RELEASE_TICK_MS).toBe(0);
          }
          // No second carries more than the documented bound: the budget's rate (97% of the
          // configured one) over the second plus a tick and the 1 ms a request may leave early,
          // plus one; which is within the configured rate.
          const bound = Math.floor((budget.maxRate * (1000 + RELEASE_TICK_MS + 1)) / 1000) + 1;
          expect(bound).toBeLessThanOrEqual(Math.floor(ratePerSecond) + 1);
          const times = sends.map((send) => send.at).sort((left, right) => left - right);
          for (let first = 0, last = 0; first < times.length; first++) {
            while (last < times.length && times[last]! < times[first]! + 1000) last++;
            expect(last - first).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { numRuns: 60, seed: 16 },
    );
  });

  it('sends a queue of requests ten to a tick at 1,000 a second, where even spacing woke once for each', async () => {
    // Prepare
    const { time, budget } = tickedBudget(1000);
    const sentAt: number[] = [];

    // Act: 1,000 requests queued at once.
    await time.run(
      Promise.all(Array.from({ length: 1000 }, () => budget.call(async () => sentAt.push(time.now())))),
    );

    // Assess: about 97 release instants for 1,000 requests, the last near 1,030 ms (97% of the rate).
    const instants = new Set(sentAt);
    expect(instants.size).toBeLessThanOrEqual(Math.ceil(1031 / RELEASE_TICK_MS) + 1);
    expect(Math.max(...sentAt)).toBeGreaterThanOrEqual(1029);
    expect(Math.max(...sentAt)).toBeLessThanOrEqual(1040);
  });

  it('lets a request whose slot has come leave at once, between ticks', async () => {
    const { time, budget } = tickedBudget(1000);
    await time.run(time.sleep(3));
    let sentAt: number | undefined;
    await time.run(budget.call(async () => (sentAt = time.now())));
    expect(sentAt).toBe(3);
  });
});

describe('RequestBudget', () => {
  it('spaces requests evenly so no second carries more than the budget', async () => {
    const time = virtualTime();
    const budget = new RequestBudget('GetSchedule', { ratePerSecond: 100, headroom: 1, ...time });
    const sentAt: number[] = [];
    for (let index = 0; index < 350; index++) {
      await budget.call(async () => sentAt.push(time.now()));
    }
    const perSecond = new Map<number, number>();
    for (const at of sentAt)
      perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(100);
    expect(sentAt.at(-1)).toBeCloseTo(3490, 0);
  });

  it('keeps a headroom below the configured rate by default', () => {
    const budget = new RequestBudget('DeleteSchedule', { ratePerSecond: 1000 });
    expect(budget.maxRate).toBe(970);
  });

  it('retries throttled calls, lowers its rate, and recovers it after quiet seconds', async () => {
    const time = virtualTime();
    const budget = new RequestBudget('GetSchedule', {
      ratePerSecond: 100,
      headroom: 1,
      random: () => 0.5,
      ...time,
    });
    let calls = 0;
    const result = await budget.call(async () => {
      calls += 1;
      if (calls <= 2) throw throttle();
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(budget.stats).toMatchObject({ requests: 3, throttled: 2, failures: 0 });
    // Two throttles within one second lower the rate once.
    expect(budget.currentRate).toBeCloseTo(70);
    time.advance(10_000);
    await budget.acquire();
    expect(budget.currentRate).toBe(100);
  });

  it('gives up on an item after the throttle attempts run out, counting a failure', async () => {
    const time = virtualTime();
    const budget = new RequestBudget('GetSchedule', { ratePerSecond: 50, maxThrottleAttempts: 3, ...time });
    await expect(budget.call(async () => Promise.reject(throttle()))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(budget.stats).toMatchObject({ requests: 3, throttled: 3, failures: 1 });
  });

  it('retries 5xx errors a bounded number of times', async () => {
    const time = virtualTime();
    const budget = new RequestBudget('ListSchedules', { ratePerSecond: 10, maxErrorAttempts: 4, ...time });
    let calls = 0;
    await expect(
      budget.call(async () => {
        calls += 1;
        throw serverError();
      }),
    ).rejects.toMatchObject({ name: 'InternalServerException' });
    expect(calls).toBe(4);
    expect(budget.stats).toMatchObject({ errorRetries: 3, failures: 1 });
  });

  it('does not retry a validation error', async () => {
    const time = virtualTime();
    const budget = new RequestBudget('DeleteSchedule', { ratePerSecond: 10, ...time });
    let calls = 0;
    await expect(
      budget.call(async () => {
        calls += 1;
        throw validationError();
      }),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    expect(calls).toBe(1);
  });

  it.each([0, -1, Number.NaN, 1.5])('rejects a headroom of %s, naming it', (headroom) => {
    expect(() => new RequestBudget('GetSchedule', { ratePerSecond: 5, headroom })).toThrow(
      'GetSchedule budget headroom must be above 0 and at most 1',
    );
  });

  it('keeps a budget under 0.5 a second at or below itself when throttled', async () => {
    const time = virtualTime();
    const budget = new RequestBudget('GetSchedule', {
      ratePerSecond: 0.2,
      maxThrottleAttempts: 2,
      random: () => 0.5,
      ...time,
    });
    await expect(budget.call(async () => Promise.reject(throttle()))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(budget.currentRate).toBeLessThanOrEqual(budget.maxRate);
  });

  it('rejects a budget of zero', () => {
    expect(() => new RequestBudget('GetSchedule', { ratePerSecond: 0 })).toThrow(/above 0/);
  });
});

describe('error classification', () => {
  it.each([
    [throttle(), true, false, false],
    [serverError(), false, true, false],
    [validationError(), false, false, false],
    [
      Object.assign(new Error('gone'), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      }),
      false,
      false,
      true,
    ],
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), false, true, false],
  ])('classifies %s', (error, throttling, transient, notFound) => {
    expect(isThrottling(error)).toBe(throttling);
    expect(isTransient(error)).toBe(transient);
    expect(isNotFound(error)).toBe(notFound);
  });
});
