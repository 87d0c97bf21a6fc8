// The create path and restore act only on a GetSchedule answer of the schedule they asked for, in
// their own account and Region (answersFor, src/schedule/name.ts), through the real SDK against the
// emulator, with a front that answers one name's lookups from another account or Region. From a
// hostile run: create adopted another account's schedule, and restore counted a tombstone without a
// stored ARN "already restored" on another account's identical schedule, recreating nothing.
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../scripts/restore.ts';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import { createOneTimeSchedule } from '../../src/create/create.ts';
import { planOneTimeSchedule } from '../../src/create/plan.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';
import { startFront } from '../support/front.ts';
import {
  resetForTombstones,
  TOMBSTONE_TABLE,
  tombstoneMacKey,
  tombstoneStore,
} from '../support/tombstones.ts';
import { oneTime } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const OTHER = '222222222222';
const NOW = new Date('2025-06-15T12:00:00Z');
const STATE_TABLE = 'schedule-hygiene-test-identity-state';
let closeFront: () => Promise<void> = async () => {};
afterEach(() => closeFront());
beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

describe('the create path adopts only its own schedule', () => {
  const GROUP = 'identity';
  const defaults = { groupName: GROUP, roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution` };
  const targetArn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:t`;

  it.each(['account', 'region'] as const)(
    "refuses to adopt another %s's schedule answered for its idempotency key",
    async (mode) => {
      // Prepare: here, the name under another token and input; elsewhere, exactly the planned schedule
      env.emulator.services.scheduler.createGroup(GROUP);
      const input = {
        at: '2099-12-01T09:00:00',
        timezone: 'Europe/Berlin',
        targetArn,
        idempotencyKey: 'k1',
        input: { v: 1 },
      };
      const plan = planOneTimeSchedule(input, defaults, env.emulator.plane.now());
      await env.scheduler.send(
        new CreateScheduleCommand({
          ...plan.request,
          Target: { ...plan.request.Target!, Input: '{"v":2}' },
          ClientToken: 'other',
        }),
      );
      const elsewhere =
        mode === 'region'
          ? { region: 'us-west-2' }
          : { credentials: { accessKeyId: OTHER, secretAccessKey: 'x' } };
      if (mode === 'region')
        env.emulator.services.scope(ACCOUNT_ID, 'us-west-2').scheduler.createGroup(GROUP);
      else env.emulator.services.scope(OTHER, REGION).scheduler.createGroup(GROUP);
      await createSchedulerClient({ ...env.clientOptions, ...elsewhere }).send(
        new CreateScheduleCommand({ ...plan.request, ClientToken: 'x' }),
      );
      const front = await startFront(
        env,
        mode === 'region'
          ? { otherRegionFor: { [plan.name]: 'us-west-2' } }
          : { otherAccountFor: { [plan.name]: OTHER } },
      );
      closeFront = front.close;

      // Act
      const created = createOneTimeSchedule(
        { scheduler: front.scheduler, clock: () => env.emulator.plane.now() },
        input,
        defaults,
      );

      // Assess: refused, and the schedule here is as it was
      await expect(created).rejects.toThrow('reading it back answered another schedule: not adopted');
      const own = await env.scheduler.send(new GetScheduleCommand({ Name: plan.name, GroupName: GROUP }));
      expect(own.Target?.Input).toBe('{"v":2}');
    },
  );

  it('still adopts its own schedule created under the same key (an earlier attempt whose answer was lost)', async () => {
    env.emulator.services.scheduler.createGroup(GROUP);
    const front = await startFront(env, {});
    closeFront = front.close;
    const input = { at: '2099-12-01T09:00:00', timezone: 'Europe/Berlin', targetArn, idempotencyKey: 'k2' };
    const plan = planOneTimeSchedule(input, defaults, env.emulator.plane.now());
    await env.scheduler.send(new CreateScheduleCommand({ ...plan.request, ClientToken: 'earlier' }));
    const retry = await createOneTimeSchedule(
      { scheduler: front.scheduler, clock: () => env.emulator.plane.now() },
      input,
      defaults,
    );
    expect(retry.arn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/${GROUP}/${plan.name}`);
  });
});

describe('restore judges its lookups in its own account', () => {
  async function run(scheduler: typeof env.scheduler, ...argv: string[]) {
    const out: string[] = [];
    const code = await main([...argv, '--table', TOMBSTONE_TABLE, '--state-table', STATE_TABLE], {
      env: { SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env) },
      kms: env.kms,
      stdout: (text) => out.push(text),
      stderr: () => {},
      interactive: false,
      scheduler,
      dynamodb: env.dynamodb,
      clock: () => env.emulator.plane.now(),
      sleep: async () => {},
    });
    return { code, out, summary: JSON.parse(out.at(-1) ?? '{}') as Record<string, number> };
  }

  it("fails a tombstone without a stored ARN whose lookup another account's identical schedule answers", async () => {
    // Prepare: a tombstone written without Arn (as an older sweeper might have), its schedule deleted
    const live = oneTime({ name: 'r1', at: '2025-07-01T09:00:00' });
    env.emulator.services.scheduler.seed([live]);
    env.emulator.services.scope(OTHER, REGION).scheduler.seed([live]);
    const {
      $metadata: _metadata,
      Arn: _arn,
      ...definition
    } = await env.scheduler.send(new GetScheduleCommand({ Name: 'r1', GroupName: 'default' }));
    const store = tombstoneStore(env);
    const receipt = await store.write({
      definition,
      runId: '3b0e6c1a-5d2f-4b7e-9a41-0c8d2e6f7a10',
      finishedAt: NOW,
      stuck: false,
    });
    await env.scheduler.send(new DeleteScheduleCommand({ Name: 'r1', GroupName: 'default' }));
    store.settle(receipt, 'deleted');
    await store.flush();
    const front = await startFront(env, { otherAccountFor: { r1: OTHER } });
    closeFront = front.close;

    // Act
    const dry = await run(front.scheduler, '--group', 'default', '--name', 'r1');

    // Assess: failed, naming why; never alreadyRestored on the other account's schedule
    expect(dry.summary).toMatchObject({ found: 1, failed: 1, alreadyRestored: 0 });
    expect(dry.out[0]).toContain('answered another schedule');
    // Without the front, the same tombstone restores.
    const direct = await run(env.scheduler, '--group', 'default', '--name', 'r1');
    expect(direct.summary).toMatchObject({ found: 1, wouldRestore: 1 });
  });
});
