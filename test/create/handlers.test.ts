// The create and target Lambdas: strict payloads that name the offending key, config read at cold
// start, and the example target that logs what Scheduler sends it.
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import { readCreateConfig } from '../../src/create/config.ts';
import { mapCreateError } from '../../src/create/errors.ts';
import { ConfigError, InputError } from '../../src/errors.ts';
import { createCreateHandler, handler as deployedCreateHandler } from '../../src/handlers/create.ts';
import { createTargetHandler } from '../../src/handlers/target.ts';
import { createLogger, createMemoryLogger } from '../../src/log.ts';
import { safeError } from '../../src/redact.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';

const GROUP = 'schedule-hygiene-test';
const defaults = { groupName: GROUP, roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution` };
const targetArn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:schedule-hygiene-test-target`;

const test = useTestEmulator();

beforeEach(() => {
  test.emulator.services.scheduler.reset();
  test.emulator.services.scheduler.createGroup(GROUP);
});

function createHandler() {
  const log = createMemoryLogger();
  const handle = createCreateHandler({
    scheduler: test.scheduler,
    clock: () => test.emulator.plane.now(),
    defaults,
    log,
  });
  return { handle, log };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('create handler', () => {
  it('creates the schedule a payload asks for and returns its name and ARN', async () => {
    // Prepare
    const { handle, log } = createHandler();

    // Act
    const created = await handle({
      at: '2099-06-01T12:00:00',
      timezone: 'America/New_York',
      targetArn,
      input: { orderId: '42' },
      businessId: 'order-42',
    });

    // Assess
    expect(test.emulator.services.scheduler.get(GROUP, created.name)).toMatchObject({
      Arn: created.arn,
      ActionAfterCompletion: 'DELETE',
      ScheduleExpressionTimezone: 'America/New_York',
    });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: 'schedule created', name: created.name }),
    );
  });

  it('rejects an unknown payload key by name and creates nothing', async () => {
    // Prepare
    const { handle, log } = createHandler();

    // Act
    const error = await rejection(handle({ at: '2099-06-01T12:00:00', targetArn, dryRun: true }));

    // Assess
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('dryRun');
    expect((error as Error).message).toContain('no such field');
    expect(test.emulator.services.scheduler.count()).toBe(0);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'schedule not created' }),
    );
  });

  it('rejects a payload that is not an object', async () => {
    // Act
    const error = await rejection(createHandler().handle('2099-06-01T12:00:00'));

    // Assess
    expect((error as InputError).field).toBe('payload');
  });

  it.each([
    ['a payload that is a string (the input sent to the wrong function)', '{"apiKey":"sk_live_SECRET123"}'],
    ['a targetArn that is not an ARN', { at: '2099-06-01T12:00:00', targetArn: 'sk_live_SECRET123' }],
    [
      'a deadLetterArn that is not an SQS ARN',
      { at: '2099-06-01T12:00:00', targetArn, deadLetterArn: 'sk_live_SECRET123' },
    ],
  ])('never echoes target content in its error or its log: %s', async (_label, event) => {
    // Prepare
    const { handle, log } = createHandler();

    // Act
    const error = await rejection(handle(event));

    // Assess
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/got a value of \d+ bytes \(SHA-256 [0-9a-f]{64}\)$/);
    expect(
      JSON.stringify({ message: (error as Error).message, got: (error as InputError).got }),
    ).not.toContain('SECRET123');
    expect(JSON.stringify(log.lines)).not.toContain('SECRET123');
    expect(test.emulator.services.scheduler.count()).toBe(0);
  });

  it("cuts the value out of Scheduler's ValidationException about the target input, as logged", async () => {
    // Act: past the create path's own checks, straight to Scheduler: an input over 256 KB that starts with a secret.
    const error = await rejection(
      test.scheduler.send(
        new CreateScheduleCommand({
          Name: 'too-big',
          GroupName: GROUP,
          ScheduleExpression: 'at(2099-06-01T12:00:00)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: targetArn,
            RoleArn: defaults.roleArn,
            Input: `sk_live_SECRET123${'x'.repeat(262_144)}`,
          },
        }),
      ),
    );

    // Assess: the service echoes the value; the logged form does not.
    expect((error as Error).message).toContain('SECRET123');
    const safe = safeError(error);
    expect(safe.message).toMatch(/Value \[redacted\] at '[Tt]arget\.[Ii]nput' failed to satisfy constraint/);
    expect(JSON.stringify(safe)).not.toContain('SECRET123');
  });

  it("cuts the whole echoed value even when it holds the text ' at ' naming another member", () => {
    // Prepare: AWS's wording around an input crafted to end the echoed value early
    const input = `{"pw":"SECRET123' at 'x' and more SECRET456"}`;
    const error = Object.assign(
      new Error(
        `1 validation error detected: Value '${input}' at 'target.input' failed to satisfy constraint`,
      ),
      { name: 'ValidationException' },
    );

    // Act
    const safe = safeError(error);
    const mapped = mapCreateError(error, { name: 'n', groupName: GROUP, roleArn: defaults.roleArn });

    // Assess: neither the logged form nor the error the create path throws keeps any of it
    expect(safe.message).toBe(
      "1 validation error detected: Value [redacted] at 'target.input' failed to satisfy constraint",
    );
    for (const text of [JSON.stringify(safe), mapped.message]) {
      expect(text).not.toContain('SECRET123');
      expect(text).not.toContain('SECRET456');
    }
  });

  it('treats a payload with an expression as recurring, which needs an endDate', async () => {
    // Act
    const error = await rejection(createHandler().handle({ expression: 'rate(1 hour)', targetArn }));

    // Assess
    expect((error as InputError).field).toBe('endDate');
    expect((error as Error).message).toContain('ActionAfterCompletion DELETE');
    expect(test.emulator.services.scheduler.count()).toBe(0);
  });

  it('refuses to run without its configuration, naming the variable', async () => {
    // Act: the test environment sets neither CREATE_SCHEDULE_GROUP nor SCHEDULER_ROLE_ARN.
    const error = await rejection(deployedCreateHandler({ at: '2099-06-01T12:00:00', targetArn }));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('CREATE_SCHEDULE_GROUP');
  });
});

describe('readCreateConfig', () => {
  it('reads the group and the execution role', () => {
    // Act
    const config = readCreateConfig({ CREATE_SCHEDULE_GROUP: GROUP, SCHEDULER_ROLE_ARN: defaults.roleArn });

    // Assess
    expect(config).toEqual(defaults);
  });

  it.each([
    [{ CREATE_SCHEDULE_GROUP: 'bad/group', SCHEDULER_ROLE_ARN: defaults.roleArn }, 'CREATE_SCHEDULE_GROUP'],
    [{ CREATE_SCHEDULE_GROUP: GROUP }, 'SCHEDULER_ROLE_ARN'],
    [{ CREATE_SCHEDULE_GROUP: GROUP, SCHEDULER_ROLE_ARN: 'scheduler-execution' }, 'SCHEDULER_ROLE_ARN'],
  ])('names the variable that is missing or malformed: %j', (env, variable) => {
    // Act
    const act = () => readCreateConfig(env);

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(variable);
  });
});

describe('target handler', () => {
  it('logs one JSON line with the size and SHA-256 of the event it receives, never its content, and returns it', async () => {
    // Prepare
    const written: string[] = [];
    const log = createLogger((line) => written.push(line));
    const event = { orderId: '42', nested: { step: 1 } };

    // Act
    const returned = await createTargetHandler(log)(event);

    // Assess
    expect(returned).toEqual(event);
    expect(written).toHaveLength(1);
    expect(written[0]).not.toContain('\n');
    expect(JSON.parse(written[0] ?? '')).toMatchObject({
      level: 'info',
      message: 'target invoked',
      event: { bytes: JSON.stringify(event).length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(written[0]).not.toContain('orderId');
  });
});
