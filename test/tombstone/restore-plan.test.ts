// The restore dry run is the plan, and --apply creates exactly that plan: through the restore CLI and
// the real SDK against the emulator. Each line is checked field by field; a stale plan digest is
// refused with nothing created; tombstones whose delete removed nothing (gone, refused, notSent) are
// left alone unless asked, and those that may not have applied (unknown, pending) need a choice; a
// missing table is named; --keep protects, waits, then creates; no line holds a target's input.
import { readFile } from 'node:fs/promises';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { main } from '../../scripts/restore.ts';
import { createMemoryLogger } from '../../src/log.ts';
import {
  createProtection,
  PROTECTION_MAX_AGE_MS,
  type ProtectionCheck,
  type ProtectionVerdict,
} from '../../src/protect/protection.ts';
import type { TombstoneOutcome } from '../../src/sweep/tombstones.ts';
import { RestoreAction } from '../../src/tombstone/restore.ts';
import { splitKey } from '../../src/tombstone/store.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';
import {
  resetForTombstones,
  storedTombstones,
  TOMBSTONE_TABLE,
  tombstoneMacKey,
  tombstoneStore,
  tombstoneSweepHandler,
} from '../support/tombstones.ts';
import { oneTime } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const STATE_TABLE = 'schedule-hygiene-test-restore-plan-state';
const NOW = new Date('2025-06-15T12:00:00Z');
const CANARY = 'sk_live_restore_plan_canary';
const TARGET_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:orders`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution`;

beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

const finished = (name: string, group = 'default'): SeedDefinition => ({
  ...oneTime({ name, group, at: '2025-06-01T09:00:00', zone: 'Europe/Paris', flexibleMinutes: 10 }),
  Target: {
    Arn: TARGET_ARN,
    RoleArn: ROLE_ARN,
    Input: JSON.stringify({ orderId: name, apiKey: CANARY }),
    RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 2 },
  },
});

async function sweepOnce() {
  return tombstoneSweepHandler(env, {
    stateTable: STATE_TABLE,
    namespace: 'RestorePlanTest',
    log: createMemoryLogger(),
  })({});
}

interface Run {
  code: number;
  out: string[];
  err: string[];
  summary: Record<string, number | string | boolean>;
}

async function run(argv: string[], options: { sleep?: (ms: number) => Promise<void> } = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const withTables = argv.includes('--table') ? argv : [...argv, '--table', TOMBSTONE_TABLE];
  const code = await main(
    withTables.includes('--state-table') ? withTables : [...withTables, '--state-table', STATE_TABLE],
    {
      env: { SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env) },
      kms: env.kms,
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      interactive: false,
      scheduler: env.scheduler,
      dynamodb: env.dynamodb,
      clock: () => env.emulator.plane.now(),
      sleep: options.sleep ?? (async () => {}),
    },
  );
  let summary: Run['summary'] = {};
  try {
    summary = JSON.parse(out.at(-1) ?? '{}') as Run['summary'];
  } catch {
    // no summary: a refusal
  }
  return { code, out, err, summary };
}

/** A tombstone line: its action word, group/name, and its key=value fields (JSON-quoted values read back). */
function parseLine(line: string) {
  const [action = '', schedule = ''] = line.split(/\s+/);
  const fields: Record<string, string> = {};
  for (const match of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const [, name = '', raw = ''] = match;
    fields[name] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  }
  return { action, schedule, fields };
}

const tombstoneLines = (result: Run) =>
  result.out.filter((line) => !line.startsWith('plan ') && !line.startsWith('{')).map(parseLine);

const present = (name: string, group = 'default') => env.emulator.services.scheduler.has(group, name);
const creates = () => env.emulator.plane.stats.get('CreateSchedule')?.calls ?? 0;

/**
 * Whether the sweep's own protection reader sees the name as protected (restore --keep): at the
 * delete gate (`confirm`, which reads the name's own item) where the reader has one, else `check`.
 */
async function isProtected(name: string, group = 'default'): Promise<boolean> {
  const protection: ProtectionCheck & {
    confirm?: (summary: ScheduleSummary) => Promise<{ verdict: ProtectionVerdict }>;
  } = createProtection({
    scheduler: env.scheduler,
    prefixes: [],
    state: { dynamodb: env.dynamodb, tableName: STATE_TABLE },
    log: createMemoryLogger(),
  });
  const summary = {
    Name: name,
    GroupName: group,
    Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/${group}/${name}`,
  };
  const verdict = protection.confirm
    ? (await protection.confirm(summary)).verdict
    : await protection.check(summary);
  return verdict?.kind === 'protected';
}

/**
 * A schedule deleted with its tombstone recording `outcome` (written by the real store), as the sweep
 * leaves it; `pending` is a tombstone whose outcome was never recorded.
 */
async function tombstoneWith(definition: SeedDefinition, outcome: TombstoneOutcome | 'pending') {
  env.emulator.services.scheduler.seed([definition]);
  const { $metadata: _m, ...stored } = await env.scheduler.send(
    new GetScheduleCommand({ Name: definition.Name, GroupName: definition.GroupName }),
  );
  const store = tombstoneStore(env);
  const receipt = await store.write({ definition: stored, runId: 'run-1', finishedAt: NOW, stuck: false });
  if (outcome !== 'pending') store.settle(receipt, outcome);
  await store.flush();
  if (outcome !== 'notSent' && outcome !== 'refused') {
    await env.scheduler.send(
      new DeleteScheduleCommand({ Name: definition.Name, GroupName: definition.GroupName }),
    );
  }
  return receipt;
}

describe('the restore dry run is the plan', () => {
  it('shows each field of the plan: group/name, outcome, what --apply would do, expression, zone, state, target, role, deletion, key', async () => {
    // Prepare
    env.emulator.services.scheduler.seed([finished('order-7')]);
    await sweepOnce();
    const [stored] = await storedTombstones(env);
    // Its age is shown in its largest unit, rounded down.
    env.emulator.plane.setNow(new Date(NOW.getTime() + 3 * 86_400_000 + 3_600_000));

    // Act
    const dry = await run(['--group', 'default', '--keep']);

    // Assess
    const [line, ...others] = tombstoneLines(dry);
    expect(others).toEqual([]);
    expect(line?.action).toBe('wouldRestore');
    expect(line?.schedule).toBe('default/order-7');
    expect(line?.fields).toEqual({
      outcome: 'deleted',
      apply: 'protect+create',
      expression: 'at(2025-06-01T09:00:00)',
      zone: 'Europe/Paris',
      state: 'ENABLED',
      target: TARGET_ARN,
      role: ROLE_ARN,
      deleted: expect.stringMatching(/^2025-06-15T12:00:0\d\.\d{3}Z$/),
      age: '3 days',
      key: stored?.key,
    });
    expect(dry.out.at(-2)).toBe(
      `plan ${dry.summary.plan}  (to create exactly what is listed: the same command with --apply --plan ${dry.summary.plan})`,
    );
    expect(dry.summary).toMatchObject({
      dryRun: true,
      found: 1,
      wouldRestore: 1,
      plan: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect([...dry.out, ...dry.err].filter((text) => text.includes(CANARY))).toEqual([]);
  });

  it('clips long ARNs to 200 characters and escapes control characters in what it shows', async () => {
    const longArn = `arn:aws:scheduler:::aws-sdk:sqs:sendMessage${'x'.repeat(1_500)}`;
    await tombstoneWith(
      {
        ...finished('long'),
        Description: `line\nbreak ${CANARY}`,
        Target: { Arn: longArn, RoleArn: `${ROLE_ARN}${'/p'.repeat(300)}`, Input: CANARY },
      },
      'deleted',
    );

    const dry = await run(['--group', 'default', '--keep']);

    const [line] = tombstoneLines(dry);
    expect(line?.fields.target).toHaveLength(200);
    expect(line?.fields.target).toMatch(/^arn:aws:scheduler:::aws-sdk:sqs:sendMessagex+\.\.\.$/);
    expect(line?.fields.role).toHaveLength(200);
    expect(dry.out.every((text) => !text.includes('\n'))).toBe(true);
    expect([...dry.out, ...dry.err].filter((text) => text.includes(CANARY))).toEqual([]);
  });

  it('--apply --plan <digest> creates exactly what the dry run listed', async () => {
    env.emulator.services.scheduler.seed([finished('a'), finished('b'), finished('c')]);
    await sweepOnce();
    await env.scheduler.send(
      new CreateScheduleCommand({
        Name: 'c',
        ScheduleExpression: 'rate(1 day)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN },
      }),
    );

    const dry = await run(['--group', 'default', '--keep']);
    const applied = await run([
      '--group',
      'default',
      '--keep',
      '--apply',
      '--plan',
      String(dry.summary.plan),
    ]);

    const planned = tombstoneLines(dry);
    const done = tombstoneLines(applied);
    expect(planned.map((line) => [line.schedule, line.action, line.fields.apply])).toEqual(
      expect.arrayContaining([
        ['default/a', 'wouldRestore', 'protect+create'],
        ['default/b', 'wouldRestore', 'protect+create'],
        ['default/c', 'exists', 'nothing'],
      ]),
    );
    // The same lines, with what was done where the dry run said what would be.
    for (const line of planned) {
      const after = done.find((candidate) => candidate.schedule === line.schedule);
      expect(after?.fields.done).toBe(line.fields.apply);
      expect(after?.action).toBe(line.action === 'wouldRestore' ? 'restored' : line.action);
      const { apply: _apply, age: _age, ...shown } = line.fields;
      const { done: _done, age: _age2, ...shownAfter } = after?.fields ?? {};
      expect(shownAfter).toEqual(shown);
    }
    expect(applied).toMatchObject({
      code: 1,
      summary: { dryRun: false, plan: dry.summary.plan, restored: 2, exists: 1 },
    });
    expect(creates()).toBe(2 + 1); // the two restored, and the test's own schedule c
  });

  it.each([
    [
      'a new tombstone',
      async () => {
        env.emulator.services.scheduler.seed([finished('late')]);
        await sweepOnce();
      },
      [] as string[],
    ],
    [
      'another outcome',
      async () => {
        const [stored] = await storedTombstones(env);
        const [pk, sk] = splitKey(stored?.key ?? '');
        await env.dynamodb.send(
          new UpdateItemCommand({
            TableName: TOMBSTONE_TABLE,
            Key: { pk: { S: pk }, sk: { S: sk } },
            UpdateExpression: 'SET outcome = :gone',
            ExpressionAttributeValues: { ':gone': { S: 'gone' } },
          }),
        );
      },
      [] as string[],
    ],
    [
      'a schedule now existing',
      async () => {
        await env.scheduler.send(
          new CreateScheduleCommand({
            Name: 'first',
            ScheduleExpression: 'rate(1 day)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN },
          }),
        );
      },
      [] as string[],
    ],
    [
      'another choice (--at instead of --keep)',
      async () => {},
      ['--at', '2025-07-01T08:30:00', '--zone', 'UTC'],
    ],
  ])(
    'refuses --apply with a stale plan digest (%s) with exit 2, creating and protecting nothing',
    async (_label, change, applyChoice) => {
      // Prepare
      env.emulator.services.scheduler.seed([finished('first')]);
      await sweepOnce();
      const dry = await run(['--group', 'default', '--keep']);
      await change();
      const createsBefore = creates();

      // Act
      const choice = applyChoice.length > 0 ? applyChoice : ['--keep'];
      const applied = await run([
        '--group',
        'default',
        ...choice,
        '--apply',
        '--plan',
        String(dry.summary.plan),
      ]);

      // Assess
      expect(applied.code).toBe(2);
      expect(applied.err.join('\n')).toMatch(
        /^error: Invalid --plan: expected the digest of the plan as it is now \([0-9a-f]{64}\): the tombstones, their outcomes or the schedules changed since that dry run\. Nothing was created/,
      );
      expect(applied.out).toEqual([]);
      expect(creates()).toBe(createsBefore);
      expect(await isProtected('first')).toBe(false);
    },
  );

  it('reports a tombstone that appears after the plan was checked as notInPlan, and does not create it', async () => {
    env.emulator.services.scheduler.seed([finished('planned')]);
    await sweepOnce();
    const dry = await run(['--group', 'default', '--keep']);

    // The wait after protecting is when a new tombstone can still slip in.
    const applied = await run(
      ['--group', 'default', '--keep', '--apply', '--plan', String(dry.summary.plan)],
      {
        sleep: async () => {
          env.emulator.services.scheduler.seed([finished('unplanned')]);
          await sweepOnce();
        },
      },
    );

    const lines = tombstoneLines(applied);
    expect(lines.find((line) => line.schedule === 'default/unplanned')).toMatchObject({
      action: 'notInPlan',
      fields: { done: 'nothing', why: 'it appeared after the plan was checked: nothing done' },
    });
    expect(lines.find((line) => line.schedule === 'default/planned')?.action).toBe('restored');
    expect(present('unplanned')).toBe(false);
    expect(applied.code).toBe(1);
  });
});

describe('restore and the outcome of the sweep’s delete', () => {
  it.each([
    ['gone', /its delete was answered 404: the schedule was deleted by someone else, not by the sweep/],
    ['refused', /its delete was refused by the service \(4xx\): the sweep did not delete it/],
    ['notSent', /its delete was never sent: the sweep did not delete it/],
  ] as const)(
    'leaves a %s tombstone alone by default, on its own line with its outcome and why; --include-not-deleted restores it',
    async (outcome, why) => {
      // Prepare
      await tombstoneWith(finished('app-deleted'), outcome);
      if (outcome !== 'gone') {
        // It was not deleted by the sweep; someone deleted it since.
        await env.scheduler.send(new DeleteScheduleCommand({ Name: 'app-deleted' }));
      }

      // Act
      const dry = await run(['--group', 'default', '--keep']);
      const applied = await run([
        '--group',
        'default',
        '--keep',
        '--apply',
        '--plan',
        String(dry.summary.plan),
      ]);
      const includedDry = await run(['--group', 'default', '--keep', '--include-not-deleted']);

      // Assess
      const [line] = tombstoneLines(dry);
      expect(line).toMatchObject({ action: 'leftAlone', schedule: 'default/app-deleted' });
      expect(line?.fields).toMatchObject({ outcome, apply: 'nothing' });
      expect(line?.fields.why).toMatch(why);
      expect(line?.fields.why).toMatch(/--include-not-deleted restores it$/);
      expect(dry).toMatchObject({ code: 0, summary: { leftAlone: 1, wouldRestore: 0 } });
      expect(applied).toMatchObject({ code: 0, summary: { leftAlone: 1, restored: 0 } });
      expect(present('app-deleted')).toBe(false);
      expect(await isProtected('app-deleted')).toBe(false);
      expect(tombstoneLines(includedDry)[0]).toMatchObject({
        action: 'wouldRestore',
        fields: { outcome, apply: 'protect+create' },
      });
    },
  );

  it.each(['unknown', 'pending'] as const)(
    'asks for a choice for a %s tombstone (it may or may not have been deleted by the sweep); --include-unknown restores it',
    async (outcome) => {
      await tombstoneWith(finished('maybe'), outcome);

      const dry = await run(['--group', 'default', '--keep']);
      const included = await run(['--group', 'default', '--keep', '--include-unknown']);
      const applied = await run([
        '--group',
        'default',
        '--keep',
        '--include-unknown',
        '--apply',
        '--plan',
        String(included.summary.plan),
      ]);

      const [line] = tombstoneLines(dry);
      expect(line).toMatchObject({ action: 'needsChoice', fields: { outcome, apply: 'nothing' } });
      expect(line?.fields.why).toMatch(
        /it may or may not have been deleted by the sweep: --include-unknown restores it$/,
      );
      expect(dry.code).toBe(1);
      expect(tombstoneLines(included)[0]).toMatchObject({ action: 'wouldRestore', fields: { outcome } });
      expect(applied).toMatchObject({ code: 0, summary: { restored: 1 } });
      expect(present('maybe')).toBe(true);
    },
  );

  it('refuses a tombstone whose outcome it does not understand, and says so', async () => {
    // Written (and MACed) by the store itself: an item altered in the table would not verify.
    await tombstoneWith(finished('odd'), 'deletedd' as TombstoneOutcome);

    const dry = await run(['--group', 'default', '--keep', '--include-unknown', '--include-not-deleted']);

    expect(tombstoneLines(dry)[0]).toMatchObject({
      action: 'failed',
      fields: {
        outcome: 'deletedd',
        apply: 'nothing',
        why: expect.stringMatching(/not one restore understands/),
      },
    });
    expect(dry.code).toBe(1);
  });
});

describe('restore says exactly what happened', () => {
  it('an exists row never claims a protection: done=nothing, and the sweep sees no protection for it', async () => {
    env.emulator.services.scheduler.seed([finished('b')]);
    await sweepOnce();
    await env.scheduler.send(
      new CreateScheduleCommand({
        Name: 'b',
        ScheduleExpression: 'rate(1 day)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN },
      }),
    );

    const dry = await run(['--group', 'default', '--keep']);
    const applied = await run([
      '--group',
      'default',
      '--keep',
      '--apply',
      '--plan',
      String(dry.summary.plan),
    ]);

    expect(tombstoneLines(dry)[0]).toMatchObject({ action: 'exists', fields: { apply: 'nothing' } });
    expect(tombstoneLines(applied)[0]).toMatchObject({ action: 'exists', fields: { done: 'nothing' } });
    expect(applied.out.some((line) => /\bprotected\b(?! by)/.test(line.replace('not protected', '')))).toBe(
      false,
    );
    expect(await isProtected('b')).toBe(false);
  });

  it('shows a schedule restored earlier as alreadyRestored, not needsChoice, whichever way it came back', async () => {
    env.emulator.services.scheduler.seed([finished('kept'), finished('moved')]);
    await sweepOnce();
    const keepDry = await run(['--group', 'default', '--name', 'kept', '--keep']);
    await run([
      '--group',
      'default',
      '--name',
      'kept',
      '--keep',
      '--apply',
      '--plan',
      String(keepDry.summary.plan),
    ]);
    const at = ['--at', '2025-07-01T08:30:00', '--zone', 'UTC'];
    const atDry = await run(['--group', 'default', '--name', 'moved', ...at]);
    await run([
      '--group',
      'default',
      '--name',
      'moved',
      ...at,
      '--apply',
      '--plan',
      String(atDry.summary.plan),
    ]);

    const dry = await run(['--group', 'default']);

    const lines = tombstoneLines(dry);
    expect(lines.find((line) => line.schedule === 'default/kept')).toMatchObject({
      action: 'alreadyRestored',
      fields: { apply: 'nothing', why: 'an identical schedule exists: nothing to create' },
    });
    expect(lines.find((line) => line.schedule === 'default/moved')).toMatchObject({
      action: 'alreadyRestored',
      fields: {
        apply: 'nothing',
        expression: 'at(2025-07-01T08:30:00)',
        zone: 'UTC',
        why: 'an identical schedule exists (recreated earlier at a new time): nothing to create',
      },
    });
    expect(dry).toMatchObject({ code: 0, summary: { needsChoice: 0, alreadyRestored: 2 } });
  });

  it('starts every line with one action word from the documented list', async () => {
    await tombstoneWith(finished('one'), 'deleted');
    await tombstoneWith(finished('two'), 'gone');
    await tombstoneWith(finished('three'), 'unknown');

    const dry = await run(['--group', 'default']);

    const lines = tombstoneLines(dry);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(Object.values(RestoreAction)).toContain(line.action);
    expect(dry.summary).toMatchObject({ found: 3, needsChoice: 2, leftAlone: 1 });
  });

  it('refuses a tombstone altered after it was written, and lets it hide no older intact tombstone', async () => {
    // Prepare: deleted twice (restored in between); then its newest tombstone is altered.
    await tombstoneWith(finished('twice'), 'deleted');
    env.emulator.plane.setNow(new Date(NOW.getTime() + 60_000));
    const newest = await tombstoneWith({ ...finished('twice'), Description: 'second life' }, 'deleted');
    const [pk, sk] = splitKey(newest.key);
    await env.dynamodb.send(
      new UpdateItemCommand({
        TableName: TOMBSTONE_TABLE,
        Key: { pk: { S: pk }, sk: { S: sk } },
        UpdateExpression: 'SET #definition = :altered',
        ExpressionAttributeNames: { '#definition': 'definition' },
        ExpressionAttributeValues: { ':altered': { S: '{"Name":"twice","Target":{"Arn":"x"}}' } },
      }),
    );

    // Act
    const dry = await run(['--group', 'default', '--keep']);

    // Assess: its MAC no longer covers it (test/tombstone/origin.test.ts)
    expect(tombstoneLines(dry).map((line) => [line.action, line.fields.key, line.fields.why])).toEqual([
      ['unverified', newest.key, expect.stringMatching(/altered since it was written/)],
      ['wouldRestore', expect.stringMatching(/^g#default#\d\|twice#2025-06-15T12:00:/), undefined],
    ]);
    expect(dry.code).toBe(1);
  });

  it('reports a create that fails as one failed line naming the error, never the input', async () => {
    env.emulator.services.scheduler.createGroup('closed');
    env.emulator.services.scheduler.seed([finished('order-1', 'closed')]);
    await sweepOnce();
    await env.scheduler.send(new DeleteScheduleGroupCommand({ Name: 'closed' }));
    const dry = await run(['--group', 'closed', '--keep']);

    const applied = await run(['--group', 'closed', '--keep', '--apply', '--plan', String(dry.summary.plan)]);

    expect(tombstoneLines(applied)).toEqual([
      expect.objectContaining({
        action: 'failed',
        schedule: 'closed/order-1',
        fields: expect.objectContaining({
          done: 'protect',
          why: expect.stringMatching(/^ResourceNotFoundException: /),
        }),
      }),
    ]);
    expect(applied).toMatchObject({ code: 1, summary: { failed: 1, restored: 0 } });
    expect(
      [...dry.out, ...dry.err, ...applied.out, ...applied.err].filter((text) => text.includes(CANARY)),
    ).toEqual([]);
  });

  it('documents every action word, and no other, in docs/restore.md', async () => {
    const page = await readFile(new URL('../../docs/restore.md', import.meta.url), 'utf8');
    const section = page.slice(page.indexOf('### What each action word means'));
    const documented = [...section.matchAll(/^\| `(\w+)` +\|/gm)].map((match) => match[1]);

    expect(documented.sort()).toEqual(Object.values(RestoreAction).sort());
  });

  it('names a missing tombstone table, with its Region', async () => {
    const dry = await run(['--group', 'default', '--table', 'schedule-hygiene-nope-tombstones']);

    expect(dry.code).toBe(1);
    expect(dry.err).toEqual([
      `error: TableNotFoundError: tombstone table 'schedule-hygiene-nope-tombstones' not found in ${REGION}`,
    ]);
  });

  it('names a missing state table with --keep --apply, and creates nothing', async () => {
    env.emulator.services.scheduler.seed([finished('order-1')]);
    await sweepOnce();
    const argv = ['--group', 'default', '--keep', '--state-table', 'schedule-hygiene-nope-state'];
    const dry = await run(argv);

    const applied = await run([...argv, '--apply', '--plan', String(dry.summary.plan)]);

    expect(applied.code).toBe(1);
    expect(applied.err).toEqual([
      `error: TableNotFoundError: state table 'schedule-hygiene-nope-state' not found in ${REGION}`,
    ]);
    expect(present('order-1')).toBe(false);
  });
});

describe('restore --keep: protections that hold against a running sweep', () => {
  it(`protects, then waits PROTECTION_MAX_AGE_MS (${PROTECTION_MAX_AGE_MS} ms) with a progress line, then creates`, async () => {
    env.emulator.services.scheduler.seed([finished('order-1'), finished('order-2')]);
    await sweepOnce();
    const dry = await run(['--group', 'default', '--keep']);
    const waits: { ms: number; protectedThen: boolean[]; presentThen: boolean[] }[] = [];

    const applied = await run(
      ['--group', 'default', '--keep', '--apply', '--plan', String(dry.summary.plan)],
      {
        sleep: async (ms) => {
          waits.push({
            ms,
            protectedThen: [await isProtected('order-1'), await isProtected('order-2')],
            presentThen: [present('order-1'), present('order-2')],
          });
        },
      },
    );

    expect(waits).toEqual([
      { ms: PROTECTION_MAX_AGE_MS, protectedThen: [true, true], presentThen: [false, false] },
    ]);
    expect(applied.err).toEqual([
      'protected 2 of 2 names in group default',
      'waiting 10 seconds before creating, so that a running sweep reads the new protections first',
    ]);
    expect([present('order-1'), present('order-2')]).toEqual([true, true]);
    expect(await sweepOnce()).toMatchObject({ deleted: 0, protected: 2 });
  });

  it('waits the full PROTECTION_MAX_AGE_MS by default before the first create', async () => {
    env.emulator.services.scheduler.seed([finished('order-1')]);
    await sweepOnce();
    const dry = await run(['--group', 'default', '--keep']);
    const out: string[] = [];
    let waitedFrom = 0;

    const started = Date.now();
    const code = await main(
      [
        '--group',
        'default',
        '--keep',
        '--apply',
        '--plan',
        String(dry.summary.plan),
        '--table',
        TOMBSTONE_TABLE,
        '--state-table',
        STATE_TABLE,
      ],
      {
        env: { SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env) },
        kms: env.kms,
        stdout: (text) => out.push(text),
        stderr: (text) => {
          if (text.startsWith('waiting')) waitedFrom = Date.now();
        },
        interactive: false,
        scheduler: env.scheduler,
        dynamodb: env.dynamodb,
        clock: () => env.emulator.plane.now(),
      },
    );
    const createdAt = (await env.scheduler.send(new GetScheduleCommand({ Name: 'order-1' }))).CreationDate;

    expect(code).toBe(0);
    expect(waitedFrom).toBeGreaterThanOrEqual(started);
    // The emulator's clock runs with the wall clock (offset by setNow): measure on it.
    expect(
      (createdAt?.getTime() ?? 0) - (waitedFrom + (env.emulator.plane.now().getTime() - Date.now())),
    ).toBeGreaterThanOrEqual(PROTECTION_MAX_AGE_MS - 50);
  }, 90_000);
});
