// Where the create function finds the execution role Scheduler assumes to call targets.
//
// The deployed function's environment holds only plain strings, so `sls invoke local` can run it
// without a CloudFormation lookup: the role's fixed name (SCHEDULER_ROLE_NAME, set by the stack) and,
// optionally, a full ARN (SCHEDULER_ROLE_ARN) that wins when set. Without one, the ARN is built from the
// role name and the partition and account of the function itself, read from the invocation's
// context.invokedFunctionArn (arn:<partition>:lambda:<region>:<account>:function:<name>): the stack
// creates the role in the function's own account and partition.
import type { Env } from '../config.ts';
import { ConfigError } from '../errors.ts';

const FUNCTION_ARN = /^arn:(aws(?:-[a-z]+)*):lambda:[a-z0-9-]+:(\d{12}):function:/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * Returns the environment with SCHEDULER_ROLE_ARN filled in: kept when set, else built from
 * SCHEDULER_ROLE_NAME and the invoked function's ARN. When neither way gives one (a local run without
 * SCHEDULER_ROLE_ARN, for example) the environment comes back unchanged, and reading the create
 * config then fails naming SCHEDULER_ROLE_ARN. Values are read exactly (unset and '' mean unset, as
 * in src/config.ts): a SCHEDULER_ROLE_NAME that is no role name is a ConfigError naming it.
 */
export function withSchedulerRoleArn(env: Env, invokedFunctionArn: string | undefined): Env {
  if (env.SCHEDULER_ROLE_ARN !== undefined && env.SCHEDULER_ROLE_ARN !== '') return env;
  const roleName = env.SCHEDULER_ROLE_NAME;
  if (roleName === undefined || roleName === '') return env;
  if (!ROLE_NAME.test(roleName)) {
    throw new ConfigError(
      'SCHEDULER_ROLE_NAME',
      'an IAM role name (1-64 of a-z A-Z 0-9 _ + = , . @ -)',
      roleName,
    );
  }
  const fn = invokedFunctionArn === undefined ? undefined : FUNCTION_ARN.exec(invokedFunctionArn);
  if (!fn) return env;
  return { ...env, SCHEDULER_ROLE_ARN: `arn:${fn[1]}:iam::${fn[2]}:role/${roleName}` };
}
