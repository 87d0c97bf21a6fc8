// The sweeper's environment, read once at cold start into one typed object. Every bad value names
// the variable and the form it should take, so a misconfigured deploy fails before any AWS call.
import { type Env, readBoolean, readList, readNamespace, readNumber } from '../config.ts';

/** Schedule group names as Scheduler accepts them. */
export const GROUP_NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;

export interface SweepConfig {
  graceMinutes: number;
  keepDisabled: boolean;
  /** Empty: every group in the account and Region. */
  groups: string[];
  budgets: { list: number; get: number; delete: number };
  concurrency: number;
  namespace: string;
}

export const SWEEP_DEFAULTS = {
  graceMinutes: 60,
  keepDisabled: false,
  listPerSecond: 10,
  getPerSecond: 100,
  deletePerSecond: 100,
  concurrency: 32,
  namespace: 'ScheduleHygiene',
} as const;

export function readSweepConfig(env: Env = process.env): SweepConfig {
  return {
    graceMinutes: readNumber(env, 'SWEEP_GRACE_MINUTES', {
      min: 0,
      max: 10_080,
      fallback: SWEEP_DEFAULTS.graceMinutes,
    }),
    keepDisabled: readBoolean(env, 'SWEEP_KEEP_DISABLED', SWEEP_DEFAULTS.keepDisabled),
    groups: readList(
      env,
      'SWEEP_GROUPS',
      GROUP_NAME_PATTERN,
      'a comma-separated list of schedule group names (1-64 of 0-9 a-z A-Z - _ .)',
    ),
    budgets: {
      list: readNumber(env, 'SWEEP_LIST_TPS', { min: 1, max: 1_000, fallback: SWEEP_DEFAULTS.listPerSecond }),
      get: readNumber(env, 'SWEEP_GET_TPS', { min: 1, max: 10_000, fallback: SWEEP_DEFAULTS.getPerSecond }),
      delete: readNumber(env, 'SWEEP_DELETE_TPS', {
        min: 1,
        max: 10_000,
        fallback: SWEEP_DEFAULTS.deletePerSecond,
      }),
    },
    concurrency: readNumber(env, 'SWEEP_CONCURRENCY', {
      min: 1,
      max: 512,
      fallback: SWEEP_DEFAULTS.concurrency,
    }),
    namespace: readNamespace(env, 'METRICS_NAMESPACE', SWEEP_DEFAULTS.namespace),
  };
}
