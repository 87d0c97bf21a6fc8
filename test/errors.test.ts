// No input in any thrown error or log line beyond what its message may echo. The Lambda runtime's
// "Invoke Error" line logs an error's own properties, and util.inspect shows its cause as well: so an
// oversized value (its tail a secret) in every input field of every handler (the sweep, census and
// create payloads, and every variable the stack sets on a function) must leave no run longer than the
// clip and never its tail, in the error serialized as JSON or as util.inspect shows it, or in any log
// line; a secret in a target-content field (input, targetArn, deadLetterArn...) must not appear at all.

import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readCensusConfig } from '../src/census/config.ts';
import { readCreateConfig } from '../src/create/config.ts';
import { ONE_TIME_FIELDS, RECURRING_FIELDS } from '../src/create/plan.ts';
import { ConfigError, InputError, MAX_ECHO_LENGTH, TARGET_CONTENT_FIELD } from '../src/errors.ts';
import { createCensusHandler } from '../src/handlers/census.ts';
import { createCreateHandler } from '../src/handlers/create.ts';
import { createSweepHandler } from '../src/handlers/sweep.ts';
import { createMemoryLogger } from '../src/log.ts';
import { readSweepConfig } from '../src/sweep/config.ts';
import { PAYLOAD_FIELDS } from '../src/sweep/payload.ts';
import { ACCOUNT_ID, HELD_ELAPSED, REGION, useTestEmulator } from './support/emulator.ts';

const env = useTestEmulator();
const TAIL = 'SECRET-TAIL-7f3a';
/** Longer than any clip, with a secret where no clip reaches. */
const OVERSIZED = `${'x'.repeat(3000)}${TAIL}`;
/** What a target's input might hold. */
const SECRET = 'sk_live_SECRET-42';
const LONG_RUN = 'x'.repeat(MAX_ECHO_LENGTH + 1);
const GROUP = 'schedule-hygiene-errors';
const targetArn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:schedule-hygiene-errors-target`;

/** Everything the runtime could write of a thrown error. */
function exposed(error: unknown): string {
  return `${JSON.stringify(error)}\n${inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })}`;
}

async function outcome(run: () => Promise<unknown>): Promise<{ error: unknown; text: string }> {
  try {
    await run();
    return { error: undefined, text: '' };
  } catch (error) {
    return { error, text: exposed(error) };
  }
}

function expectNoLeak(text: string, logs: unknown[]) {
  const logged = JSON.stringify(logs);
  for (const written of [text, logged]) {
    expect(written).not.toContain(TAIL);
    expect(written).not.toContain(LONG_RUN);
  }
}

const serverless = parse(readFileSync('serverless.yml', 'utf8')) as {
  functions: Record<string, { environment?: Record<string, unknown> }>;
};
const variablesOf = (fn: string) => Object.keys(serverless.functions[fn]?.environment ?? {});

/** The create handler over an emptied Scheduler holding GROUP, logging to memory. */
function freshCreateHandler() {
  env.emulator.services.scheduler.reset();
  env.emulator.services.scheduler.createGroup(GROUP);
  const log = createMemoryLogger();
  const handle = createCreateHandler({
    scheduler: env.scheduler,
    clock: () => env.emulator.plane.now(),
    defaults: { groupName: GROUP, roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution` },
    log,
  });
  return { handle, log };
}

describe('no input beyond the clip in any thrown error or log line', () => {
  it.each([...PAYLOAD_FIELDS, 'unknownField', `${'k'.repeat(200)}${TAIL}`])(
    'sweep payload field %s',
    async (field) => {
      const log = createMemoryLogger();
      const handle = createSweepHandler({
        scheduler: env.scheduler,
        cloudwatch: env.cloudwatch,
        config: readSweepConfig({}),
        log,
        clock: () => env.emulator.plane.now(),
        elapsed: HELD_ELAPSED,
      });

      const { error, text } = await outcome(() => handle({ [field]: OVERSIZED }));

      expect(error).toBeInstanceOf(InputError);
      expectNoLeak(text, log.lines);
    },
  );

  it.each(['runId', 'invocation', 'startedAt', 'nextToken', 'progress', 'extra'])(
    'census continuation field %s',
    async (field) => {
      const log = createMemoryLogger();
      const handle = createCensusHandler({
        scheduler: env.scheduler,
        serviceQuotas: env.serviceQuotas,
        cloudwatch: env.cloudwatch,
        config: readCensusConfig({}),
        log,
        clock: () => env.emulator.plane.now(),
      });

      const { error, text } = await outcome(() => handle({ continuation: { [field]: OVERSIZED } }));

      expect(error).toBeInstanceOf(InputError);
      expectNoLeak(text, log.lines);
    },
  );

  const fields = [...new Set([...ONE_TIME_FIELDS, ...RECURRING_FIELDS, 'unknownField'])];
  it.each(
    fields.flatMap((field) => [
      [field, 'an oversized', OVERSIZED],
      [field, 'a secret-bearing', SECRET],
    ]),
  )('create payload field %s, %s value', async (field, _label, value) => {
    const { handle, log } = freshCreateHandler();
    const base =
      RECURRING_FIELDS.includes(field as never) && !ONE_TIME_FIELDS.includes(field as never)
        ? { expression: 'rate(1 hour)', endDate: '2099-01-01T00:00:00Z', targetArn }
        : { at: '2099-06-01T12:00:00', targetArn };

    const { text } = await outcome(() => handle({ ...base, [field]: value }));

    expectNoLeak(text, log.lines);
    if (TARGET_CONTENT_FIELD.test(field)) {
      expect(text).not.toContain('SECRET-42');
      expect(JSON.stringify(log.lines)).not.toContain('SECRET-42');
    }
  });

  it('create: an input Scheduler refuses (over 256 KB) leaves its secret in no error, cause included', async () => {
    const { handle, log } = freshCreateHandler();

    const { error, text } = await outcome(() =>
      handle({ at: '2099-06-01T12:00:00', targetArn, input: `${SECRET}${'y'.repeat(300_000)}` }),
    );

    expect(error).toBeDefined();
    expect(text).not.toContain('SECRET-42');
    expect(text).not.toContain('y'.repeat(MAX_ECHO_LENGTH + 1));
    expect(JSON.stringify(log.lines)).not.toContain('SECRET-42');
  });

  it.each([
    ...variablesOf('sweep').map((variable) => ['sweep', variable] as const),
    ...variablesOf('census').map((variable) => ['census', variable] as const),
    ...variablesOf('create').map((variable) => ['create', variable] as const),
  ])('%s environment variable %s', (fn, variable) => {
    const base: Record<string, Record<string, string>> = {
      sweep: {},
      census: {},
      create: { CREATE_SCHEDULE_GROUP: GROUP, SCHEDULER_ROLE_ARN: `arn:aws:iam::${ACCOUNT_ID}:role/x` },
    };
    const read = { sweep: readSweepConfig, census: readCensusConfig, create: readCreateConfig }[fn];
    let text = '';
    try {
      read({ ...base[fn], [variable]: OVERSIZED });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      text = exposed(error);
    }

    expectNoLeak(text, []);
  });

  it('an InputError keeps a clipped field and value; a ConfigError a clipped value', () => {
    const input = new InputError(`${'f'.repeat(500)}`, 'a name', OVERSIZED);
    const config = new ConfigError('SWEEP_GROUPS', 'a list', OVERSIZED);

    expect(input.field.length).toBeLessThanOrEqual(MAX_ECHO_LENGTH);
    expect(String(input.got).length).toBeLessThanOrEqual(MAX_ECHO_LENGTH);
    expect(String(config.got).length).toBeLessThanOrEqual(MAX_ECHO_LENGTH);
    expect(new InputError('limit', 'a number', 5).got).toBe(5);
  });
});
