// The sweep with stand-in clients, for cases the emulator cannot produce: a schedule with
// ActionAfterCompletion DELETE that Scheduler failed to remove (the emulator always removes it).
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import { sweep } from '../../src/sweep/sweep.ts';
import { memoryTombstones } from '../support/tombstones.ts';
import { sweepOptions } from './fixtures.ts';

const now = new Date('2025-06-15T12:00:00Z');

function stuckSchedule(name: string) {
  return {
    Arn: `arn:aws:scheduler:us-east-1:123456789012:schedule/default/${name}`,
    Name: name,
    GroupName: 'default',
    ScheduleExpression: 'at(2025-06-01T00:00:00)',
    State: 'ENABLED',
    ActionAfterCompletion: 'DELETE',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: 'arn:aws:lambda:us-east-1:123456789012:function:t',
      RoleArn: 'arn:aws:iam::123456789012:role/r',
    },
  };
}

/** A Scheduler stand-in holding the given schedules in one page, recording the deletions asked of it. */
function fakeScheduler(schedules: ReturnType<typeof stuckSchedule>[]) {
  const deleted: string[] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof ListSchedulesCommand) {
        return {
          Schedules: schedules.map(({ Name, GroupName, Arn, State }) => ({ Name, GroupName, Arn, State })),
        };
      }
      if (command instanceof GetScheduleCommand) {
        const found = schedules.find((schedule) => schedule.Name === command.input.Name);
        return { ...found, $metadata: { httpStatusCode: 200 } };
      }
      if (command instanceof DeleteScheduleCommand) {
        deleted.push(`${command.input.GroupName}/${command.input.Name}`);
        return {};
      }
      throw new Error('unexpected command');
    },
  };
  return { client: client as unknown as SchedulerClient, deleted };
}

const cloudwatch = { send: async () => ({}) } as unknown as CloudWatchClient;

describe('sweep, stuck schedules', () => {
  it('deletes a past-due DELETE schedule that Scheduler left behind, counting it as stuck', async () => {
    // Prepare
    const scheduler = fakeScheduler([stuckSchedule('left-behind')]);
    const log = createMemoryLogger();

    // Act
    const summary = await sweep(
      { scheduler: scheduler.client, cloudwatch, clock: () => now, log, tombstones: memoryTombstones() },
      sweepOptions(),
    );

    // Assess
    expect(summary).toMatchObject({ finished: 1, deleted: 1, stuck: 1 });
    expect(scheduler.deleted).toEqual(['default/left-behind']);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: 'tombstone', action: 'deleting', name: 'left-behind', stuck: true }),
    );
  });

  it('never lets an unexpected error in one item abort the others', async () => {
    // Prepare: the second schedule's lookup returns something the sweep cannot read at all.
    const scheduler = fakeScheduler([
      stuckSchedule('first'),
      stuckSchedule('broken'),
      stuckSchedule('third'),
    ]);
    const send = scheduler.client.send.bind(scheduler.client);
    scheduler.client.send = (async (command: unknown) => {
      if (command instanceof GetScheduleCommand && command.input.Name === 'broken') return null;
      return send(command as never);
    }) as SchedulerClient['send'];
    const log = createMemoryLogger();

    // Act
    const summary = await sweep(
      { scheduler: scheduler.client, cloudwatch, clock: () => now, log, tombstones: memoryTombstones() },
      sweepOptions(),
    );

    // Assess
    expect(summary).toMatchObject({ scanned: 3, deleted: 2, failed: 1, complete: true });
    expect(scheduler.deleted).toEqual(['default/first', 'default/third']);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'error', name: 'broken' }));
  });
});
