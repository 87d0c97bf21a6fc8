// A sweep's checkpoint: what a hand-off would carry if the invocation handed on right now, counting
// only settled items. It is stored on the lease item (src/state/lease.ts), so only the invocation
// holding the lease writes it, and read by the next run that takes an expired lease: an invocation
// that was killed (out of memory, a crash, a deadline the margin did not cover) is resumed from its
// last checkpoint instead of starting over. See src/sweep/README.md, "Checkpoints".
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { InputError } from '../errors.ts';
import { readExact } from '../payload.ts';
import { isoInstant, wholeNumber } from '../validate.ts';
import { parseSweepEvent, type SweepContinuation, type SweepRequest } from './payload.ts';

/**
 * Most deletes sent that the latest checkpoint does not count: a resumed sweep's `deleted` may be
 * short by this many (reported in `uncertain.deleted`). Above the default concurrency (32), so
 * deletions rarely wait for a checkpoint; one is written whenever half of it is used.
 */
export const CHECKPOINT_DELETE_ALLOWANCE = 64;
/** A checkpoint is written at most this often while anything settled (and sooner for the allowance). */
export const CHECKPOINT_EVERY_MS = 10_000;
/**
 * A checkpoint older than this is abandoned: the next run starts over. Six sweep periods at the
 * default `rate(1 hour)`; a whole sweep's totals should not span much longer.
 */
export const MAX_CHECKPOINT_AGE_MS = 6 * 60 * 60_000;

/** Version 2 added `settings`; a version-1 checkpoint does not read, so it is abandoned. */
const VERSION = 2;
const FIELDS = ['version', 'savedAt', 'allowance', 'settings', 'continuation'] as const;
const schema = v.strictObject({
  version: v.literal(VERSION, `${VERSION}`),
  savedAt: isoInstant,
  allowance: wholeNumber(0, 100_000),
  settings: v.pipe(v.string('a SHA-256 in hex'), v.regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex')),
  continuation: v.unknown(),
});

/** The settings that decide what a sweep looks at and how it judges it, beyond its request. */
export interface SweepSettings {
  groups: string[];
  namePrefix?: string;
  graceMinutes: number;
  keepDisabled: boolean;
  dryRun: boolean;
  maxDeletes?: number;
  /** SWEEP_CLOUDFORMATION_OWNED; `keep` (the default) leaves the fingerprint as it was before the setting. */
  cloudFormationOwned?: 'keep' | 'sweep';
}

/**
 * A SHA-256 of the effective settings a checkpoint was taken under (the request merged with the
 * function's environment: groups in order, name prefix, grace, keep-disabled, dry run, maxDeletes).
 * A run whose settings differ (say, SWEEP_GROUPS changed by a deploy) abandons the checkpoint: its
 * cursor names a position in the old list of groups.
 */
export function settingsFingerprint(settings: SweepSettings): string {
  const canonicalSettings = {
    groups: settings.groups,
    namePrefix: settings.namePrefix ?? null,
    graceMinutes: settings.graceMinutes,
    keepDisabled: settings.keepDisabled,
    dryRun: settings.dryRun,
    maxDeletes: settings.maxDeletes ?? null,
    ...(settings.cloudFormationOwned === 'sweep' ? { cloudFormationOwned: 'sweep' } : {}),
  };
  return createHash('sha256').update(JSON.stringify(canonicalSettings)).digest('hex');
}

export interface SweepCheckpoint {
  /** When it was taken (the sweep's clock). */
  savedAt: string;
  /** The deletion allowance it was written under: deletes after it that it may not count. */
  allowance: number;
  /** settingsFingerprint() of the sweep that wrote it. */
  settings: string;
  /** What the resuming invocation carries on from; its `invocation` is the resumer's number. */
  continuation: SweepContinuation;
}

export function encodeCheckpoint(checkpoint: SweepCheckpoint): string {
  return JSON.stringify({ version: VERSION, ...checkpoint });
}

/**
 * What the invocation that ends a sweep stores just before it publishes the sweep's metrics: a run
 * killed after this point (publishing, or freeing the lease) is not resumed, since its sweep is
 * over, and the next run starts a new sweep. Its metrics were published or, if the kill came
 * before the publication reached CloudWatch, are missing: never published twice.
 */
export function encodeEnded(at: Date): string {
  return JSON.stringify({ version: VERSION, ended: at.toISOString() });
}

function isEnded(body: string): boolean {
  try {
    const value = JSON.parse(body) as Record<string, unknown>;
    const keys = Object.keys(value ?? {}).sort();
    return keys.join(',') === 'ended,version' && value.version === VERSION && typeof value.ended === 'string';
  } catch {
    return false;
  }
}

/**
 * Reads a stored checkpoint exactly, or throws an InputError naming the first field that is not as
 * written: a checkpoint is resumed whole or not at all, never widened or guessed at.
 */
export function decodeCheckpoint(body: string): SweepCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new InputError('checkpoint', 'a JSON object');
  }
  const record = readExact('checkpoint', value, FIELDS, schema);
  let continuation: SweepContinuation;
  try {
    const event = parseSweepEvent({ continuation: record.continuation });
    if (event.kind !== 'continuation') throw new InputError('checkpoint.continuation', 'a continuation');
    continuation = event.continuation;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(`checkpoint.${error.field}`, error.expected);
  }
  return { savedAt: record.savedAt, allowance: record.allowance, settings: record.settings, continuation };
}

/** Whether two requests ask for the same sweep: the same fields with the same values, dry run included. */
export function sameRequest(left: SweepRequest, right: SweepRequest): boolean {
  return canonical(left) === canonical(right);
}

function canonical(request: SweepRequest): string {
  const entries = Object.entries(request)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

export type CheckpointVerdict =
  | { resume: true; checkpoint: SweepCheckpoint }
  | { resume: false; reason: string };

/**
 * Whether a new run with `request` and `settings` (settingsFingerprint) at `now` resumes this stored
 * checkpoint: only one that reads exactly, asks for the same request under the same settings and is
 * at most MAX_CHECKPOINT_AGE_MS old. The reason never
 * holds a stored value (it names the field or the rule).
 */
export function judgeCheckpoint(
  body: string,
  request: SweepRequest,
  settings: string,
  now: Date,
): CheckpointVerdict {
  if (isEnded(body)) {
    return {
      resume: false,
      reason: 'its sweep had ended; it was stopped while publishing its metrics or freeing the lease',
    };
  }
  let checkpoint: SweepCheckpoint;
  try {
    checkpoint = decodeCheckpoint(body);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { resume: false, reason: `unreadable: ${error.field} is not ${error.expected}` };
  }
  if (!sameRequest(checkpoint.continuation.request, request)) {
    return { resume: false, reason: 'it was taken for a different request' };
  }
  if (checkpoint.settings !== settings) {
    return {
      resume: false,
      reason:
        'it was taken under different settings (groups, name prefix, grace, keep-disabled, dry run, maxDeletes or CloudFormation-owned)',
    };
  }
  const age = now.getTime() - new Date(checkpoint.savedAt).getTime();
  if (age > MAX_CHECKPOINT_AGE_MS) {
    return { resume: false, reason: `older than ${MAX_CHECKPOINT_AGE_MS / 3_600_000} hours` };
  }
  return { resume: true, checkpoint };
}
