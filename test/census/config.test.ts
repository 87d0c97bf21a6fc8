// The census settings: defaults when unset, and errors that name the variable and the expected form.
import { describe, expect, it } from 'vitest';
import { CENSUS_DEFAULTS, readCensusConfig } from '../../src/census/config.ts';
import { ConfigError } from '../../src/errors.ts';

describe('readCensusConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(readCensusConfig({})).toEqual({
      namespace: 'ScheduleHygiene',
      fallbackQuota: 10_000_000,
      listTps: 20,
      groups: [],
      safetyMarginSeconds: 30,
    });
    expect(readCensusConfig({})).not.toHaveProperty('stateTable');
    // AWS's default "Number of schedules" since August 2024, not the 1,000,000 of before.
    expect(CENSUS_DEFAULTS.fallbackQuota).toBe(10_000_000);
  });

  it('reads every setting', () => {
    const config = readCensusConfig({
      METRICS_NAMESPACE: 'Team/Schedules',
      SCHEDULE_QUOTA: '2500000',
      CENSUS_LIST_TPS: '5',
      CENSUS_GROUPS: 'default, billing-reminders ,orders.v2',
      CENSUS_STATE_TABLE: 'schedule-hygiene-prod-state',
      CENSUS_SAFETY_MARGIN_SECONDS: '45',
    });

    expect(config).toEqual({
      namespace: 'Team/Schedules',
      fallbackQuota: 2_500_000,
      listTps: 5,
      groups: ['default', 'billing-reminders', 'orders.v2'],
      stateTable: 'schedule-hygiene-prod-state',
      safetyMarginSeconds: 45,
    });
  });

  it.each([
    ['SCHEDULE_QUOTA', '0', 'a whole number from 1 to 1000000000'],
    ['SCHEDULE_QUOTA', '2000000000', 'a whole number from 1 to 1000000000'],
    ['SCHEDULE_QUOTA', 'lots', 'a whole number from 1 to 1000000000'],
    ['CENSUS_LIST_TPS', '0', 'a whole number from 1 to 1000'],
    ['CENSUS_LIST_TPS', '2.5', 'a whole number from 1 to 1000'],
    ['CENSUS_GROUPS', 'good,bad group', 'a comma-separated list of schedule group names'],
    ['METRICS_NAMESPACE', 'AWS/Scheduler', 'a CloudWatch namespace'],
    ['CENSUS_STATE_TABLE', 'no spaces allowed', 'a DynamoDB table name'],
    ['CENSUS_SAFETY_MARGIN_SECONDS', '0', 'a whole number from 1 to 600'],
    ['CENSUS_SAFETY_MARGIN_SECONDS', '900', 'a whole number from 1 to 600'],
  ])('rejects %s=%s, naming the variable and the expected form', (variable, value, expected) => {
    const read = () => readCensusConfig({ [variable]: value });

    expect(read).toThrow(ConfigError);
    expect(read).toThrow(new RegExp(`^Expected ${variable} to be ${expected}.*got '${value}'`));
  });

  it('says an empty CENSUS_GROUPS means every group when it refuses an empty item', () => {
    expect(() => readCensusConfig({ CENSUS_GROUPS: ',' })).toThrow(
      'or unset or empty to count every group (item 1 is empty)',
    );
  });
});
