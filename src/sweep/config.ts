// The sweeper's environment, read once at cold start into one typed object. Every bad value names
// the variable and the form it should take, so a misconfigured deploy fails before any AWS call.

import {
  type Env,
  readBoolean,
  readChoice,
  readList,
  readNamespace,
  readNumber,
  readOptionalString,
  readTableName,
} from '../config.ts';
import { ConfigError } from '../errors.ts';
import { NAME_FORM, NAME_PATTERN } from '../schedule/name.ts';
import { MAC_KEY_ALIAS, MAC_KEY_ARN } from '../tombstone/origin.ts';

export interface SweepConfig {
  graceMinutes: number;
  keepDisabled: boolean;
  /** Empty: every group in the account and Region. */
  groups: string[];
  budgets: { list: number; get: number; delete: number };
  concurrency: number;
  namespace: string;
  /**
   * DynamoDB table for the lease and the memory of earlier lookups. Without it the sweep runs in one
   * invocation, with no lease (reserved concurrency 1 still prevents overlap) and no memory.
   */
  stateTable?: string;
  /** Time kept in hand before the Lambda deadline to drain, flush memory and hand the sweep on. */
  safetyMarginSeconds: number;
  /** Remember what lookups taught and skip lookups of unchanged, not-due schedules (needs stateTable). */
  incremental: boolean;
  /**
   * The tombstone table (src/tombstone/README.md). Without it the sweep may only dry-run: no
   * tombstone, no delete.
   */
  tombstoneTable?: string;
  /**
   * The KMS HMAC key every tombstone is MACed with (its ARN, alias ARN or alias name), so restore
   * recreates only what the sweep wrote (src/tombstone/origin.ts). Required with tombstoneTable.
   */
  tombstoneMacKey?: string;
  /** Days a tombstone is kept before DynamoDB's TTL removes it. */
  tombstoneRetentionDays: number;
  /** Schedule name prefixes the sweep never deletes. */
  protectPrefixes: string[];
  /**
   * What the sweep does with a finished schedule a CloudFormation stack declares: `keep` it (counted
   * `cloudFormationOwned`, and kept as `ownershipUnknown` when ownership cannot be read), or `sweep`
   * it like any other, without reading CloudFormation at all.
   */
  cloudFormationOwned: CloudFormationOwned;
}

export const CloudFormationOwned = { keep: 'keep', sweep: 'sweep' } as const;
export type CloudFormationOwned = (typeof CloudFormationOwned)[keyof typeof CloudFormationOwned];

export const SWEEP_DEFAULTS = {
  graceMinutes: 60,
  keepDisabled: false,
  listPerSecond: 10,
  getPerSecond: 100,
  deletePerSecond: 100,
  concurrency: 32,
  namespace: 'ScheduleHygiene',
  safetyMarginSeconds: 90,
  incremental: true,
  tombstoneRetentionDays: 365,
  cloudFormationOwned: CloudFormationOwned.keep,
} as const;

export function readSweepConfig(env: Env = process.env): SweepConfig {
  const budgets = {
    list: readNumber(env, 'SWEEP_LIST_TPS', { min: 1, max: 1_000, fallback: SWEEP_DEFAULTS.listPerSecond }),
    get: readNumber(env, 'SWEEP_GET_TPS', { min: 1, max: 10_000, fallback: SWEEP_DEFAULTS.getPerSecond }),
    delete: readNumber(env, 'SWEEP_DELETE_TPS', {
      min: 1,
      max: 10_000,
      fallback: SWEEP_DEFAULTS.deletePerSecond,
    }),
  };
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
      NAME_PATTERN,
      `a comma-separated list of schedule group names (${NAME_FORM})`,
      'unset or empty to sweep every group',
    ),
    budgets,
    concurrency: readNumber(env, 'SWEEP_CONCURRENCY', {
      min: 1,
      max: MAX_CONCURRENCY,
      fallback: defaultConcurrency(budgets),
    }),
    namespace: readNamespace(env, 'METRICS_NAMESPACE', SWEEP_DEFAULTS.namespace),
    ...readStateTable(env),
    safetyMarginSeconds: readNumber(env, 'SWEEP_SAFETY_MARGIN_SECONDS', {
      min: 5,
      max: 600,
      fallback: SWEEP_DEFAULTS.safetyMarginSeconds,
    }),
    incremental: readBoolean(env, 'SWEEP_INCREMENTAL', SWEEP_DEFAULTS.incremental),
    ...readTombstoneTable(env),
    tombstoneRetentionDays: readNumber(env, 'SWEEP_TOMBSTONE_RETENTION_DAYS', {
      min: 1,
      max: 3_650,
      fallback: SWEEP_DEFAULTS.tombstoneRetentionDays,
    }),
    protectPrefixes: readList(
      env,
      'SWEEP_PROTECT_PREFIXES',
      NAME_PATTERN,
      `a comma-separated list of schedule name prefixes (${NAME_FORM})`,
      'unset or empty to protect no prefix',
    ),
    cloudFormationOwned: readChoice(
      env,
      'SWEEP_CLOUDFORMATION_OWNED',
      Object.values(CloudFormationOwned),
      SWEEP_DEFAULTS.cloudFormationOwned,
    ),
  };
}

/** The sweep never holds more than two pages of items, so more in flight than this buys nothing. */
export const MAX_CONCURRENCY = 200;

/**
 * Items in flight needed to keep the budgets busy (Little's law): rate × time each item holds its
 * slot. An item holds one GetSchedule round trip and, when finished, one DeleteSchedule, plus client
 * CPU; 150 ms per item covers Scheduler's usual tens of milliseconds with room for a busy container.
 * Never below 32 (cheap at low rates), never above what two pages can feed.
 */
export function defaultConcurrency(budgets: { get: number; delete: number }): number {
  const needed = Math.ceil(Math.max(budgets.get, budgets.delete) * 0.15);
  return Math.min(MAX_CONCURRENCY, Math.max(SWEEP_DEFAULTS.concurrency, needed));
}

function readStateTable(env: Env): { stateTable?: string } {
  const name = readTableName(env, 'SWEEP_STATE_TABLE');
  return name === undefined ? {} : { stateTable: name };
}

const MAC_KEY_FORM =
  'an HMAC_256 KMS key: its ARN (arn:aws:kms:<region>:<account>:key/<key id>), its alias ARN, or its alias name (alias/<name>)';

/** The tombstone table and its MAC key: both or neither (a tombstone without a MAC can never be restored). */
function readTombstoneTable(env: Env): { tombstoneTable?: string; tombstoneMacKey?: string } {
  const name = readTableName(env, 'SWEEP_TOMBSTONE_TABLE');
  const key = readOptionalString(env, 'SWEEP_TOMBSTONE_MAC_KEY');
  if (key !== undefined && !MAC_KEY_ARN.test(key) && !MAC_KEY_ALIAS.test(key))
    throw new ConfigError('SWEEP_TOMBSTONE_MAC_KEY', MAC_KEY_FORM, key);
  if (name === undefined) {
    if (key !== undefined) {
      throw new ConfigError('SWEEP_TOMBSTONE_MAC_KEY', 'unset when SWEEP_TOMBSTONE_TABLE is unset', key);
    }
    return {};
  }
  if (key === undefined) {
    throw new ConfigError(
      'SWEEP_TOMBSTONE_MAC_KEY',
      `${MAC_KEY_FORM}, set with SWEEP_TOMBSTONE_TABLE (restore recreates only tombstones whose MAC verifies)`,
      undefined,
    );
  }
  return { tombstoneTable: name, tombstoneMacKey: key };
}
