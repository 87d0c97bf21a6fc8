// Client construction: every request is bounded in time, so a stuck call fails (and is retried by
// the request budget) instead of holding a sweep past its Lambda deadline.
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { isTransient } from '../../src/aws/budget.ts';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import { useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();

describe('AWS clients', () => {
  it('abandon a request that outlasts the request timeout, as a transient error', async () => {
    // Prepare: the emulator answers GetSchedule only after 1.5 s
    harness.emulator.plane.controls.latencyByOperation = { GetSchedule: 1_500 };
    const scheduler = createSchedulerClient({
      ...harness.clientOptions,
      maxAttempts: 1,
      requestTimeoutMs: 200,
    });
    const started = performance.now();

    // Act
    const failure = await scheduler
      .send(new GetScheduleCommand({ Name: 'slow' }))
      .catch((error: unknown) => error);

    // Assess
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(isTransient(failure)).toBe(true);
    harness.emulator.plane.controls.latencyByOperation = {};
  });
});
