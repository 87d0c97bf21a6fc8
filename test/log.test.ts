// The log lines: Powertools Logger's format, captured through the injected sink, with errors
// reduced to name and message wherever they sit in a line.
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addLambdaContext, createLogger } from '../src/log.ts';

function capture(persistentKeys: Record<string, unknown> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger((line) => lines.push(JSON.parse(line)), persistentKeys);
  return { log, lines };
}

const lambdaContext = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  functionName: 'schedule-hygiene-dev-sweep',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:schedule-hygiene-dev-sweep',
  memoryLimitInMB: '1024',
} as Context;

describe('log lines', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('writes one JSON line per call with the level, message, service, persistent keys and fields', () => {
    const { log, lines } = capture({ function: 'sweep' });

    log.info('sweep finished', { deleted: 3 });
    log.warn('schedule skipped', { schedule: 'a' });
    log.error('sweep failed');

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'sweep finished',
        service: 'schedule-hygiene',
        function: 'sweep',
        deleted: 3,
      }),
      expect.objectContaining({
        level: 'warn',
        message: 'schedule skipped',
        function: 'sweep',
        schedule: 'a',
      }),
      expect.objectContaining({ level: 'error', message: 'sweep failed', function: 'sweep' }),
    ]);
    expect(Date.parse(String(lines[0]?.timestamp))).not.toBeNaN();
  });

  it('adds the request id and function of a Lambda context to every later line, and nothing for a partial context', () => {
    const { log, lines } = capture();

    addLambdaContext(log, { getRemainingTimeInMillis: () => 1000 });
    log.info('before');
    addLambdaContext(log, lambdaContext);
    log.info('after');

    expect(lines[0]).not.toHaveProperty('function_request_id');
    expect(lines[1]).toMatchObject({
      function_request_id: lambdaContext.awsRequestId,
      function_name: lambdaContext.functionName,
      cold_start: expect.any(Boolean),
    });
  });

  it('takes the log level from POWERTOOLS_LOG_LEVEL', () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    const { log, lines } = capture();

    log.info('hidden');
    log.warn('shown');

    expect(lines.map((line) => line.message)).toEqual(['shown']);
  });

  it('serializes an error anywhere in a line as its name and message only, never its other properties', () => {
    const { log, lines } = capture();
    const error = Object.assign(new Error('AccessDenied'), {
      $response: { body: '{"Target":{"Input":"{\\"card\\":\\"4111\\"}"}}' },
      Target: { Input: '{"card":"4111"}' },
    });

    log.error('schedule deletion failed', { error, nested: { cause: new TypeError('bad') } });

    expect(lines[0]).toMatchObject({
      error: { name: 'Error', message: 'AccessDenied' },
      nested: { cause: { name: 'TypeError', message: 'bad' } },
    });
    expect(JSON.stringify(lines[0])).not.toContain('4111');
  });

  it('logs a null-prototype map as its entries, so keys named __proto__ and constructor survive', () => {
    // Prepare
    const { log, lines } = capture();
    const byGroup: Record<string, number> = Object.assign(
      Object.create(null),
      Object.fromEntries([
        ['__proto__', 26],
        ['constructor', 4],
        ['default', 274],
      ]),
    );

    // Act
    log.info('sweep finished', { summary: { scheduleCounts: { total: 304, byGroup } } });

    // Assess
    expect(lines[0]).toMatchObject({
      summary: {
        scheduleCounts: {
          total: 304,
          byGroup: [
            ['__proto__', 26],
            ['constructor', 4],
            ['default', 274],
          ],
        },
      },
    });
  });
});
