// The operator CLI: prints the created schedule as JSON, and reports bad input on stderr with exit
// code 2 and nothing created. One test runs it as a real process against the emulator over HTTP.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../scripts/create-schedule.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';

const GROUP = 'schedule-hygiene-test';
const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution`;
const targetArn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:schedule-hygiene-test-target`;
const env = { CREATE_SCHEDULE_GROUP: GROUP, SCHEDULER_ROLE_ARN: roleArn };

const test = useTestEmulator();

beforeEach(() => {
  test.emulator.services.scheduler.reset();
  test.emulator.services.scheduler.createGroup(GROUP);
});

async function run(argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(argv, {
    env,
    scheduler: test.scheduler,
    clock: () => test.emulator.plane.now(),
    stdout: (text) => stdout.push(text),
    stderr: (text) => stderr.push(text),
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('create-schedule CLI', () => {
  it('creates the schedule and prints its name and ARN as JSON', async () => {
    // Act
    const result = await run([
      '--at',
      '2099-12-01T09:00:00',
      '--zone',
      'Europe/Berlin',
      '--target',
      targetArn,
      '--input',
      '{"orderId":"42"}',
      '--business-id',
      'order-42',
      '--max-retries',
      '3',
    ]);
    const printed = JSON.parse(result.stdout) as { name: string; arn: string };

    // Assess
    expect(result.code).toBe(0);
    expect(test.emulator.services.scheduler.get(GROUP, printed.name)).toMatchObject({
      Arn: printed.arn,
      ActionAfterCompletion: 'DELETE',
      ScheduleExpression: 'at(2099-12-01T09:00:00)',
      Target: { Input: '{"orderId":"42"}', RetryPolicy: { MaximumRetryAttempts: 3 } },
    });
  });

  it.each([
    ['a missing target', ['--at', '2099-12-01T09:00:00'], '--target'],
    [
      'input that is not JSON',
      ['--at', '2099-12-01T09:00:00', '--target', targetArn, '--input', '{orderId:42}'],
      '--input',
    ],
    [
      'a flexible window that is not a number',
      ['--at', '2099-12-01T09:00:00', '--target', targetArn, '--flexible-window', 'wide'],
      '--flexible-window',
    ],
    [
      'an unknown option',
      ['--at', '2099-12-01T09:00:00', '--target', targetArn, '--dry-run'],
      "Unknown argument '--dry-run'",
    ],
    [
      'a flexible window of 5.0',
      ['--at', '2099-12-01T09:00:00', '--target', targetArn, '--flexible-window', '5.0'],
      '--flexible-window',
    ],
    [
      'a retry count in exponent notation',
      ['--at', '2099-12-01T09:00:00', '--target', targetArn, '--max-retries', '1e2'],
      '--max-retries',
    ],
    ['an empty zone', ['--at', '2099-12-01T09:00:00', '--target', targetArn, '--zone', ''], '--zone'],
  ])('exits with code 2 on %s, naming the option, and creates nothing', async (_description, argv, named) => {
    // Act
    const result = await run(argv);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(named);
    expect(result.stdout).toBe('');
    expect(test.emulator.services.scheduler.count()).toBe(0);
  });

  it('never echoes a malformed --input (it may hold a secret): names the option, the form, its size and SHA-256', async () => {
    // Prepare
    const input = '{"apiKey":"sk_live_SECRET123"';

    // Act
    const result = await run(['--at', '2099-12-01T09:00:00', '--target', targetArn, '--input', input]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `error: Invalid input: expected JSON text, e.g. '{"orderId":"42"}', got a value of ${Buffer.byteLength(input)} bytes (SHA-256 ${createHash('sha256').update(input).digest('hex')}) (option --input)`,
    );
    for (const piece of ['sk_live', 'SECRET123', 'apiKey']) {
      expect(result.stderr).not.toContain(piece);
      expect(result.stdout).not.toContain(piece);
    }
    expect(test.emulator.services.scheduler.count()).toBe(0);
  });

  it.each([
    ['--target', ['--target', 'arn:aws:lambda:sk_live_SECRET123']],
    ['--dlq', ['--target', targetArn, '--dlq', 'https://sqs/sk_live_SECRET123']],
  ])('never echoes a malformed target parameter (%s)', async (option, argv) => {
    // Act
    const result = await run(['--at', '2099-12-01T09:00:00', ...argv]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`(option ${option})`);
    expect(result.stderr).toMatch(/got a value of \d+ bytes \(SHA-256 [0-9a-f]{64}\)/);
    expect(result.stderr).not.toContain('SECRET123');
  });

  it('runs as a process, finding the endpoint through AWS_ENDPOINT_URL_SCHEDULER', async () => {
    // Act
    const { stdout } = await promisify(execFile)(
      'npx',
      [
        'tsx',
        'scripts/create-schedule.ts',
        '--at',
        '2099-12-01T09:00:00',
        '--target',
        targetArn,
        '--prefix',
        'cli',
      ],
      {
        env: {
          ...process.env,
          ...env,
          AWS_ENDPOINT_URL_SCHEDULER: test.emulator.url,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
      },
    );
    const printed = JSON.parse(stdout) as { name: string; arn: string };

    // Assess
    expect(printed.name).toMatch(/^cli-[0-9a-f]{24}$/);
    expect(test.emulator.services.scheduler.get(GROUP, printed.name)?.Arn).toBe(printed.arn);
  });
});
