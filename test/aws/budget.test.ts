import { describe, expect, it } from 'vitest';
import { isNotFound, isThrottling, isTransient, RequestBudget } from '../../src/aws/budget.ts';

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
