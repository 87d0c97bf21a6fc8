import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';

describe('sweep config', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = readSweepConfig({});

    expect(config).toEqual({
      graceMinutes: 60,
      keepDisabled: false,
      groups: [],
      budgets: { list: 10, get: 100, delete: 100 },
      concurrency: 32,
      namespace: 'ScheduleHygiene',
      safetyMarginSeconds: 90,
      incremental: true,
      tombstoneRetentionDays: 365,
      protectPrefixes: [],
      // CloudFormation-owned schedules are kept unless the operator opts in.
      cloudFormationOwned: 'keep',
    });
  });

  it.each([
    [{}, 32],
    [{ SWEEP_GET_TPS: '250' }, 38],
    [{ SWEEP_GET_TPS: '1000', SWEEP_DELETE_TPS: '1000' }, 150],
    [{ SWEEP_DELETE_TPS: '1000' }, 150],
    [{ SWEEP_GET_TPS: '5000' }, 200],
  ])(
    'derives in-flight items from the budgets when SWEEP_CONCURRENCY is unset (%o → %i)',
    (env, expected) => {
      expect(readSweepConfig(env).concurrency).toBe(expected);
    },
  );

  it('reads every variable', () => {
    // Prepare
    const env = {
      SWEEP_GRACE_MINUTES: '0',
      SWEEP_KEEP_DISABLED: 'true',
      SWEEP_GROUPS: 'default, orders , billing.v2',
      SWEEP_LIST_TPS: '50',
      SWEEP_GET_TPS: '1000',
      SWEEP_DELETE_TPS: '250',
      SWEEP_CONCURRENCY: '64',
      METRICS_NAMESPACE: 'Team/Hygiene',
      SWEEP_STATE_TABLE: 'schedule-hygiene-prod-sweep-state',
      SWEEP_SAFETY_MARGIN_SECONDS: '120',
      SWEEP_INCREMENTAL: 'false',
      SWEEP_TOMBSTONE_TABLE: 'schedule-hygiene-prod-tombstones',
      SWEEP_TOMBSTONE_MAC_KEY: 'alias/schedule-hygiene-prod-tombstone-mac',
      SWEEP_TOMBSTONE_RETENTION_DAYS: '90',
      SWEEP_PROTECT_PREFIXES: 'keep-, audit.',
      SWEEP_CLOUDFORMATION_OWNED: 'sweep',
    };

    // Act
    const config = readSweepConfig(env);

    // Assess
    expect(config).toEqual({
      graceMinutes: 0,
      keepDisabled: true,
      groups: ['default', 'orders', 'billing.v2'],
      budgets: { list: 50, get: 1000, delete: 250 },
      concurrency: 64,
      namespace: 'Team/Hygiene',
      stateTable: 'schedule-hygiene-prod-sweep-state',
      safetyMarginSeconds: 120,
      incremental: false,
      tombstoneTable: 'schedule-hygiene-prod-tombstones',
      tombstoneMacKey: 'alias/schedule-hygiene-prod-tombstone-mac',
      tombstoneRetentionDays: 90,
      protectPrefixes: ['keep-', 'audit.'],
      cloudFormationOwned: 'sweep',
    });
  });

  it.each([
    ['SWEEP_GET_TPS', 'fast', "Expected SWEEP_GET_TPS to be a whole number from 1 to 10000, got 'fast'"],
    ['SWEEP_GET_TPS', '0', "Expected SWEEP_GET_TPS to be a whole number from 1 to 10000, got '0'"],
    [
      'SWEEP_DELETE_TPS',
      '10001',
      "Expected SWEEP_DELETE_TPS to be a whole number from 1 to 10000, got '10001'",
    ],
    ['SWEEP_LIST_TPS', '1001', "Expected SWEEP_LIST_TPS to be a whole number from 1 to 1000, got '1001'"],
    ['SWEEP_CONCURRENCY', '2.5', "Expected SWEEP_CONCURRENCY to be a whole number from 1 to 200, got '2.5'"],
    ['SWEEP_CONCURRENCY', '512', "Expected SWEEP_CONCURRENCY to be a whole number from 1 to 200, got '512'"],
    [
      'SWEEP_GRACE_MINUTES',
      '-1',
      "Expected SWEEP_GRACE_MINUTES to be a whole number from 0 to 10080, got '-1'",
    ],
    ['SWEEP_KEEP_DISABLED', 'yes', "Expected SWEEP_KEEP_DISABLED to be 'true' or 'false', got 'yes'"],
    [
      'SWEEP_GROUPS',
      'ok,not ok',
      'Expected SWEEP_GROUPS to be a comma-separated list of schedule group names',
    ],
    [
      'SWEEP_GROUPS',
      ',',
      '(1-64 characters of 0-9 a-z A-Z - _ .), or unset or empty to sweep every group (item 1 is empty)',
    ],
    ['SWEEP_PROTECT_PREFIXES', 'keep-,,hold-', 'or unset or empty to protect no prefix (item 2 is empty)'],
    [
      'SWEEP_GROUPS',
      'orders,billing,orders',
      "names (1-64 characters of 0-9 a-z A-Z - _ .), each named once, got 'orders,billing,orders'",
    ],
    ['METRICS_NAMESPACE', 'AWS/Scheduler', 'Expected METRICS_NAMESPACE to be a CloudWatch namespace'],
    ['SWEEP_STATE_TABLE', 'no spaces', 'Expected SWEEP_STATE_TABLE to be a DynamoDB table name'],
    [
      'SWEEP_SAFETY_MARGIN_SECONDS',
      '1',
      "Expected SWEEP_SAFETY_MARGIN_SECONDS to be a whole number from 5 to 600, got '1'",
    ],
    ['SWEEP_INCREMENTAL', 'maybe', "Expected SWEEP_INCREMENTAL to be 'true' or 'false', got 'maybe'"],
    [
      'SWEEP_CLOUDFORMATION_OWNED',
      'delete',
      "Expected SWEEP_CLOUDFORMATION_OWNED to be 'keep' or 'sweep', got 'delete'",
    ],
    // Written exactly: no case folding toward a value that deletes.
    [
      'SWEEP_CLOUDFORMATION_OWNED',
      'SWEEP',
      "Expected SWEEP_CLOUDFORMATION_OWNED to be 'keep' or 'sweep', got 'SWEEP'",
    ],
    [
      'SWEEP_TOMBSTONE_MAC_KEY',
      'tombstone-key',
      'Expected SWEEP_TOMBSTONE_MAC_KEY to be an HMAC_256 KMS key',
    ],
    ['SWEEP_TOMBSTONE_MAC_KEY', 'alias/x', 'to be unset when SWEEP_TOMBSTONE_TABLE is unset'],
  ])('rejects %s=%s naming the variable and the expected form', (variable, value, message) => {
    const read = () => readSweepConfig({ [variable]: value });

    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });

  it('refuses a tombstone table without its MAC key: a tombstone without a MAC could never be restored', () => {
    const read = () => readSweepConfig({ SWEEP_TOMBSTONE_TABLE: 'schedule-hygiene-prod-tombstones' });

    expect(read).toThrow(ConfigError);
    expect(read).toThrow(
      /^Expected SWEEP_TOMBSTONE_MAC_KEY to be an HMAC_256 KMS key.*set with SWEEP_TOMBSTONE_TABLE/,
    );
  });

  it.each([
    'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
    'arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/schedule-hygiene-prod-tombstone-mac',
    'alias/schedule-hygiene-prod-tombstone-mac',
  ])('reads the tombstone MAC key %s', (key) => {
    expect(
      readSweepConfig({ SWEEP_TOMBSTONE_TABLE: 'prod-tombstones', SWEEP_TOMBSTONE_MAC_KEY: key }),
    ).toMatchObject({ tombstoneTable: 'prod-tombstones', tombstoneMacKey: key });
  });
});
