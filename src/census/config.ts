// The census function's settings, read once from the environment at cold start.
// Every error names the variable and the expected form, before any AWS call is made.
import { type Env, readList, readNamespace, readNumber } from '../config.ts';

export interface CensusConfig {
  /** CloudWatch namespace shared with the sweeper (the alarms watch it). */
  namespace: string;
  /** Used when Service Quotas cannot tell us the applied or default quota. */
  fallbackQuota: number;
  /** ListSchedules requests per second; well under the 50 TPS quota so the sweeper can list too. */
  listTps: number;
  /** Count only these schedule groups; empty means every group. */
  groups: string[];
}

export const CENSUS_DEFAULTS = {
  namespace: 'ScheduleHygiene',
  fallbackQuota: 1_000_000,
  listTps: 20,
} as const;

/** Schedule group names: 1-64 of [0-9a-zA-Z-_.]. */
const GROUP_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

export function readCensusConfig(env: Env = process.env): CensusConfig {
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
      GROUP_NAME,
      'a comma-separated list of schedule group names (1-64 of 0-9 a-z A-Z - _ .)',
    ),
  };
}
