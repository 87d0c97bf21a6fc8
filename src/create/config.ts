// The create path's settings from the environment: the stack's schedule group and the execution
// role Scheduler assumes to call targets. Read once at cold start; errors name the variable.

import { type Env, readString } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { NAME_FORM } from '../schedule/name.ts';
import { ROLE_ARN_PATTERN, SCHEDULE_GROUP_PATTERN } from './plan.ts';

export interface CreateConfig {
  groupName: string;
  roleArn: string;
}

export function readCreateConfig(env: Env): CreateConfig {
  const groupName = readString(env, 'CREATE_SCHEDULE_GROUP');
  if (!SCHEDULE_GROUP_PATTERN.test(groupName)) {
    throw new ConfigError('CREATE_SCHEDULE_GROUP', `a schedule group name (${NAME_FORM})`, groupName);
  }
  const roleArn = readString(env, 'SCHEDULER_ROLE_ARN');
  if (!ROLE_ARN_PATTERN.test(roleArn)) {
    throw new ConfigError(
      'SCHEDULER_ROLE_ARN',
      'an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
      roleArn,
    );
  }
  return { groupName, roleArn };
}
