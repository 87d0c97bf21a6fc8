// The emulated Lambda Invoke API, exercised through the real SDK client over HTTP.
import { InvokeCommand, RequestTooLargeException, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLambdaClient } from '../../src/aws/clients.ts';
import { useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();

beforeEach(() => {
  harness.emulator.services.lambda.reset();
  harness.emulator.plane.controls.rateLimits = {};
});

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (payload: Uint8Array | undefined) =>
  payload && payload.length > 0 ? JSON.parse(new TextDecoder().decode(payload)) : undefined;

describe('Invoke', () => {
  it('records an Event invocation with its parsed payload and answers 202', async () => {
    // Prepare
    const continuation = { cursor: 'page-7', startedAt: '2026-03-01T10:00:00Z' };
    harness.emulator.plane.setNow(new Date('2026-03-01T10:14:00Z'));

    // Act
    const response = await harness.lambda.send(
      new InvokeCommand({
        FunctionName: 'schedule-hygiene-sweep',
        InvocationType: 'Event',
        Payload: encode(continuation),
      }),
    );

    // Assess
    expect(response.StatusCode).toBe(202);
    const [invocation, ...others] = harness.emulator.services.lambda.invocations();
    expect(others).toEqual([]);
    expect(invocation).toMatchObject({
      functionName: 'schedule-hygiene-sweep',
      invocationType: 'Event',
      payload: continuation,
    });
    expect(Math.abs((invocation?.at.getTime() ?? 0) - Date.parse('2026-03-01T10:14:00Z'))).toBeLessThan(
      5_000,
    );
  });

  it('hands out recorded invocations once with takeInvocations', async () => {
    // Prepare
    await harness.lambda.send(
      new InvokeCommand({ FunctionName: 'sweep', InvocationType: 'Event', Payload: encode({ n: 1 }) }),
    );
    await harness.lambda.send(
      new InvokeCommand({ FunctionName: 'sweep', InvocationType: 'Event', Payload: encode({ n: 2 }) }),
    );

    // Act
    const taken = harness.emulator.services.lambda.takeInvocations();

    // Assess
    expect(taken.map((invocation) => invocation.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(harness.emulator.services.lambda.invocations()).toEqual([]);
  });

  it('answers a RequestResponse invocation with the registered handler result', async () => {
    // Prepare
    harness.emulator.services.lambda.setHandler('census', (payload) => ({
      echoed: payload,
      schedules: 42,
    }));

    // Act
    const response = await harness.lambda.send(
      new InvokeCommand({ FunctionName: 'census', Payload: encode({ group: 'default' }) }),
    );

    // Assess
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBeUndefined();
    expect(decode(response.Payload)).toEqual({ echoed: { group: 'default' }, schedules: 42 });
  });

  it('reports a handler that throws as an Unhandled function error, still with status 200', async () => {
    // Prepare
    harness.emulator.services.lambda.setHandler('census', () => {
      throw new TypeError('no quota');
    });

    // Act
    const response = await harness.lambda.send(new InvokeCommand({ FunctionName: 'census' }));

    // Assess
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBe('Unhandled');
    expect(decode(response.Payload)).toEqual({ errorType: 'TypeError', errorMessage: 'no quota' });
  });

  it('names the function, not the ARN, and keeps the qualifier', async () => {
    // Act
    await harness.lambda.send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:schedule-hygiene-sweep:live',
        InvocationType: 'Event',
      }),
    );

    // Assess
    expect(harness.emulator.services.lambda.invocations()[0]).toMatchObject({
      functionName: 'schedule-hygiene-sweep',
      qualifier: 'live',
      payload: undefined,
    });
  });

  it('answers a DryRun with 204 and marks it as such', async () => {
    // Act
    const response = await harness.lambda.send(
      new InvokeCommand({ FunctionName: 'sweep', InvocationType: 'DryRun' }),
    );

    // Assess
    expect(response.StatusCode).toBe(204);
    expect(
      harness.emulator.services.lambda.invocations().map((invocation) => invocation.invocationType),
    ).toEqual(['DryRun']);
  });

  it('rejects an Event payload over 256 KiB and records nothing', async () => {
    // Act
    const attempt = harness.lambda.send(
      new InvokeCommand({
        FunctionName: 'sweep',
        InvocationType: 'Event',
        Payload: encode({ blob: 'x'.repeat(300_000) }),
      }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RequestTooLargeException);
    expect(harness.emulator.services.lambda.invocations()).toEqual([]);
  });

  it('answers over its rate cap with TooManyRequestsException, as Lambda names throttling', async () => {
    // Prepare
    harness.emulator.plane.controls.rateLimits = { Invoke: 0 };
    const client = createLambdaClient({ ...harness.clientOptions, maxAttempts: 1 });

    // Act
    const attempt = client.send(new InvokeCommand({ FunctionName: 'sweep', InvocationType: 'Event' }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TooManyRequestsException);
    expect(harness.emulator.services.lambda.invocations()).toEqual([]);
  });
});
