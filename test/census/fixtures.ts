// Census fixtures: recurring schedules (the census counts, it never inspects them) in named groups,
// the first `disabled` of each group DISABLED, seeded straight into the emulator.
import type { CreateScheduleInput } from '@aws-sdk/client-scheduler';
import { ACCOUNT_ID, REGION, type TestEmulator } from '../support/emulator.ts';

type State = 'ENABLED' | 'DISABLED';

/** `count` schedules in `group`, the first `disabled` of them DISABLED. */
export function schedules(group: string, count: number, disabled = 0): CreateScheduleInput[] {
  return Array.from({ length: count }, (_, index) => ({
    Name: `${group}-${String(index).padStart(5, '0')}`,
    GroupName: group,
    State: (index < disabled ? 'DISABLED' : 'ENABLED') as State,
    ScheduleExpression: 'rate(1 hour)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'NONE',
    Target: {
      Arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:target`,
      RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-invoke`,
    },
  }));
}

export function seedGroup(env: TestEmulator, group: string, count: number, disabled = 0): void {
  if (group !== 'default') env.emulator.services.scheduler.createGroup(group);
  env.emulator.services.scheduler.seed(schedules(group, count, disabled));
}
