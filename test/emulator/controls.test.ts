// The emulator's HTTP controls (/_emulator/...) answer a request they cannot take with what they
// expected: 400 for a body or value they do not understand, 404 for an action a service does not
// have, changing nothing; never a 500 that reads as the emulator's own fault.
import { describe, expect, it } from 'vitest';
import { useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();

async function post(route: string, body: string): Promise<{ status: number; message: string }> {
  const answer = await fetch(`${harness.emulator.url}/_emulator/${route}`, { method: 'POST', body });
  return { status: answer.status, message: ((await answer.json()) as { message?: string }).message ?? '' };
}

describe('emulator controls refuse what they cannot take', () => {
  it('answers a body that is not a JSON object with a 400 saying so, on every route', async () => {
    for (const route of ['scheduler/seed', 'cloudwatch/seed', 'dynamodb/createTable', 'controls']) {
      expect(await post(route, '{not json')).toEqual({
        status: 400,
        message: 'Control body: expected a JSON object, got text that is not JSON',
      });
      expect(await post(route, 'null')).toMatchObject({
        status: 400,
        message: expect.stringContaining('null'),
      });
    }
  });

  it('answers an action a service does not have with a 404 naming it', async () => {
    for (const service of [
      'scheduler',
      'cloudwatch',
      'dynamodb',
      'kms',
      'sts',
      'lambda',
      'cloudformation',
      'servicequotas',
    ]) {
      const answer = await post(`${service}/nonsense`, '{}');
      expect({ service, status: answer.status }).toEqual({ service, status: 404 });
      expect(answer.message).toContain('nonsense');
    }
  });

  it('answers a value it does not understand with a 400 naming it, changing nothing', async () => {
    const before = harness.emulator.services.scheduler.scheduleQuota();
    expect(await post('scheduler/quota', '{"quota":"abc"}')).toMatchObject({
      status: 400,
      message: expect.stringContaining('Schedule quota must be a whole number'),
    });
    expect(harness.emulator.services.scheduler.scheduleQuota()).toBe(before);
    expect(await post('scheduler/synthesize', '{"count":-5}')).toMatchObject({
      status: 400,
      message: expect.stringContaining('count must be a whole number'),
    });
    // A member spelt otherwise than the control's (AWS's Dimensions for dimensions) is refused, not dropped.
    expect(
      await post('cloudwatch/seed', '{"namespace":"AWS/Usage","metricName":"M","value":1,"Dimensions":[]}'),
    ).toMatchObject({ status: 400, message: expect.stringContaining('Dimensions') });
    expect(harness.emulator.services.cloudwatch.datums({ namespace: 'AWS/Usage' })).toEqual([]);
  });
});
