// The execution role's ARN for the create function: SCHEDULER_ROLE_ARN when set (local runs), else
// built from SCHEDULER_ROLE_NAME and the partition and account of the invoked function's own ARN.
import { describe, expect, it } from 'vitest';
import { readCreateConfig } from '../../src/create/config.ts';
import { withSchedulerRoleArn } from '../../src/create/role.ts';
import { ConfigError } from '../../src/errors.ts';

const functionArn = 'arn:aws:lambda:eu-west-1:123456789012:function:schedule-hygiene-prod-create';

describe('withSchedulerRoleArn', () => {
  it('builds the ARN from the role name and the invoked function, in its partition and account', () => {
    // Act
    const env = withSchedulerRoleArn({ SCHEDULER_ROLE_NAME: 'schedule-hygiene-prod-scheduler' }, functionArn);

    // Assess
    expect(env.SCHEDULER_ROLE_ARN).toBe('arn:aws:iam::123456789012:role/schedule-hygiene-prod-scheduler');
  });

  it.each([
    ['aws-cn', 'arn:aws-cn:lambda:cn-north-1:123456789012:function:f'],
    ['aws-us-gov', 'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:live'],
  ])('keeps the %s partition', (partition, arn) => {
    expect(withSchedulerRoleArn({ SCHEDULER_ROLE_NAME: 'r' }, arn).SCHEDULER_ROLE_ARN).toBe(
      `arn:${partition}:iam::123456789012:role/r`,
    );
  });

  it('prefers SCHEDULER_ROLE_ARN when it is set', () => {
    const arn = 'arn:aws:iam::000000000000:role/local';

    expect(
      withSchedulerRoleArn({ SCHEDULER_ROLE_ARN: arn, SCHEDULER_ROLE_NAME: 'other' }, functionArn)
        .SCHEDULER_ROLE_ARN,
    ).toBe(arn);
  });

  it.each([
    ['no invoked function ARN', { SCHEDULER_ROLE_NAME: 'r' }, undefined],
    ['no role name', {}, functionArn],
    ['a malformed function ARN', { SCHEDULER_ROLE_NAME: 'r' }, 'arn:aws:lambda:function'],
  ])('leaves the ARN unset with %s, so the config names SCHEDULER_ROLE_ARN', (_, env, arn) => {
    // Act
    const resolved = withSchedulerRoleArn({ CREATE_SCHEDULE_GROUP: 'g', ...env }, arn);

    // Assess
    expect(resolved.SCHEDULER_ROLE_ARN).toBeUndefined();
    expect(() => readCreateConfig(resolved)).toThrow(ConfigError);
    expect(() => readCreateConfig(resolved)).toThrow(/SCHEDULER_ROLE_ARN/);
  });

  it.each(['a/b', ' schedule-hygiene-prod-scheduler', 'r '])(
    'refuses the role name %j, naming SCHEDULER_ROLE_NAME rather than reporting a missing ARN',
    (name) => {
      expect(() => withSchedulerRoleArn({ SCHEDULER_ROLE_NAME: name }, functionArn)).toThrow(
        /^Expected SCHEDULER_ROLE_NAME to be an IAM role name/,
      );
    },
  );

  it('refuses a blank SCHEDULER_ROLE_ARN instead of building another one', () => {
    const resolved = withSchedulerRoleArn(
      { CREATE_SCHEDULE_GROUP: 'g', SCHEDULER_ROLE_ARN: ' ', SCHEDULER_ROLE_NAME: 'r' },
      functionArn,
    );

    expect(() => readCreateConfig(resolved)).toThrow(/^Expected SCHEDULER_ROLE_ARN to be /);
  });
});
