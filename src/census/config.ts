// The census function's settings, read once from the environment at cold start.
// Every error names the variable and the expected form, before any AWS call is made.

import { type Env, readList, readNamespace, readNumber, readTableName } from '../config.ts';
import { NAME_FORM, NAME_PATTERN } from '../schedule/name.ts';
import { DEFAULT_SCHEDULE_QUOTA } from './quota.ts';

export interface CensusConfig {
  /** CloudWatch namespace shared with the sweeper (the alarms watch it). */
  namespace: string;
  /** Used when Service Quotas cannot tell us the applied or default quota. */
  fallbackQuota: number;
  /** ListSchedules requests per second; well under the 50 TPS quota so the sweeper can list too. */
  listTps: number;
  /** Count only these schedule groups; empty means every group. */
  groups: string[];
  /**
   * The state table that holds the census lease. Unset: the census runs in one invocation and a
   * large account outlasts it; set: a census that runs out of time hands itself on.
   */
  stateTable?: string;
  /** Kept in hand before the deadline to publish or hand on; the census stops listing then. */
  safetyMarginSeconds: number;
}

export const CENSUS_DEFAULTS = {
  namespace: 'ScheduleHygiene',
  fallbackQuota: DEFAULT_SCHEDULE_QUOTA,
  listTps: 20,
  // Publishing a complete census (one GetMetricData, a few PutMetricData) or handing on takes
  // seconds; 30 leaves room for a slow Service Quotas lookup and the SDK's retries.
  safetyMarginSeconds: 30,
} as const;

export function readCensusConfig(env: Env = process.env): CensusConfig {
  const stateTable = readTableName(env, 'CENSUS_STATE_TABLE');
  return {
    namespace: readNamespace(env, 'METRICS_NAMESPACE', CENSUS_DEFAULTS.namespace),
    fallbackQuota: readNumber(env, 'SCHEDULE_QUOTA', {
      min: 1,
      max: 1_000_000_000,
      fallback: CENSUS_DEFAULTS.fallbackQuota,
    }),
    listTps: readNumber(env, 'CENSUS_LIST_TPS', { min: 1, max: 1000, fallback: CENSUS_DEFAULTS.listTps }),
    groups: readList(
      env,
      'CENSUS_GROUPS',
      NAME_PATTERN,
      `a comma-separated list of schedule group names (${NAME_FORM})`,
      'unset or empty to count every group',
    ),
    ...(stateTable === undefined ? {} : { stateTable }),
    // At most 10 minutes of a 15-minute invocation: a larger margin would leave little time to list.
    safetyMarginSeconds: readNumber(env, 'CENSUS_SAFETY_MARGIN_SECONDS', {
      min: 1,
      max: 600,
      fallback: CENSUS_DEFAULTS.safetyMarginSeconds,
    }),
  };
}
