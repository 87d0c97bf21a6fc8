// The README's promise: with AWS_ENDPOINT_URL_* pointing at a running emulator, `sls invoke local`
// runs the built functions against it, exactly as they would run against AWS.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_STATE_TABLE } from '../scripts/emulator/main.ts';
import { type RunningEmulator, startEmulator } from '../scripts/emulator/server.ts';

const run = promisify(execFile);
const sls = resolve('node_modules/.bin/sls');

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.services.dynamodb.createTable(DEFAULT_STATE_TABLE, { hash: 'pk' });
  emulator.services.scheduler.synthesize({ count: 300, seed: 3, groups: ['default', 'orders'] });
});

afterAll(async () => {
  await emulator.close();
});

async function invokeLocal(functionName: string, data?: string) {
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_SCHEDULER: emulator.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: emulator.url,
    AWS_ENDPOINT_URL_SERVICE_QUOTAS: emulator.url,
    AWS_ENDPOINT_URL_DYNAMODB: emulator.url,
    AWS_ENDPOINT_URL_LAMBDA: emulator.url,
    SLS_TELEMETRY_DISABLED: '1',
  };
  const args = [
    'invoke',
    'local',
    '-f',
    functionName,
    '-e',
    'SWEEP_GET_TPS=2000',
    '-e',
    'SWEEP_LIST_TPS=100',
  ];
  if (data) args.push('--data', data);
  const child = run(sls, args, { cwd: inject('serviceDir'), env, timeout: 60_000 });
  // Without --data, invoke local reads the event from standard input: give it an empty one.
  child.child.stdin?.end();
  const { stdout } = await child;
  // The function's log lines come first; the handler's result is the last JSON document printed.
  return JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1)) as Record<string, unknown>;
}

describe('sls invoke local against the emulator', () => {
  it('runs a dry-run sweep that looks at every schedule and deletes nothing', async () => {
    const before = emulator.services.scheduler.count();

    const result = await invokeLocal('sweep', '{"dryRun":true}');

    expect(result).toMatchObject({
      status: 'finished',
      dryRun: true,
      scanned: 300,
      deleted: 0,
      complete: true,
    });
    expect(result.wouldDelete).toBeGreaterThan(0);
    expect(emulator.services.scheduler.count()).toBe(before);
  }, 90_000);

  it('runs the census against the emulated Scheduler and Service Quotas', async () => {
    const result = await invokeLocal('census');

    expect(result).toMatchObject({ total: emulator.services.scheduler.count() });
    expect(result.quota).toMatchObject({ source: 'applied' });
  }, 90_000);
});
