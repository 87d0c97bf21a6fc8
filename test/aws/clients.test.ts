// Client construction: every request is bounded in time, so a stuck call fails (and is retried by
// the request budget) instead of holding a sweep past its Lambda deadline.
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('client region', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is never guessed: without AWS_REGION, AWS_DEFAULT_REGION or a profile region the SDK refuses', async () => {
    // Prepare: no region anywhere, and a config file that does not exist
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');

    // Act
    const region = createSchedulerClient().config.region();

    // Assess
    await expect(region).rejects.toThrow(/Region is missing/);
  });

  it.each([
    [{ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' }, 'eu-west-1'],
    [{ AWS_REGION: '', AWS_DEFAULT_REGION: 'us-west-2' }, 'us-west-2'],
  ])('reads %o as %s', async (env, expected) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);

    expect(await createSchedulerClient().config.region()).toBe(expected);
  });
});
