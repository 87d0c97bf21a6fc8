// The sweep's invoke payload (`sls invoke -f sweep --data '{...}'`), validated strictly before any AWS
// call. Unknown keys are rejected by name: a typo in `dryRun` must never turn into a real run.
import { InputError } from '../errors.ts';
import { GROUP_NAME_PATTERN } from './config.ts';

/** What a manual run may override; anything left out takes the configured default. */
export interface SweepRequest {
  dryRun?: boolean;
  groups?: string[];
  namePrefix?: string;
  maxDeletes?: number;
  graceMinutes?: number;
  keepDisabled?: boolean;
}

export const PAYLOAD_FIELDS = [
  'dryRun',
  'groups',
  'namePrefix',
  'maxDeletes',
  'graceMinutes',
  'keepDisabled',
] as const;

const NAME_FORM = '1-64 characters of 0-9 a-z A-Z - _ .';
/** An account holds at most 500 schedule groups by default; more names than that is a mistake. */
const MAX_GROUPS = 500;
const MAX_GRACE_MINUTES = 10_080;

/** A payload key the sweep does not know. The message lists the keys it does know. */
export class UnknownFieldError extends InputError {
  constructor(readonly fields: string[]) {
    super(fields.join(', '), `one of ${PAYLOAD_FIELDS.join(', ')}`);
    const quoted = fields.map((field) => `'${field}'${suggestion(field)}`).join(', ');
    this.message = `Unknown field${fields.length > 1 ? 's' : ''} ${quoted} in sweep payload; allowed: ${PAYLOAD_FIELDS.join(', ')}`;
  }
}

function suggestion(field: string): string {
  const match = PAYLOAD_FIELDS.find((known) => known.toLowerCase() === field.toLowerCase());
  return match ? ` (did you mean '${match}'?)` : '';
}

/**
 * Turns an invoke event into a SweepRequest. The EventBridge scheduled event that triggers the
 * regular run, and an empty or missing payload, both mean "the configured defaults".
 */
export function parseSweepPayload(event: unknown): SweepRequest {
  if (event === undefined || event === null || event === '') return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InputError('sweep payload', `a JSON object with fields ${PAYLOAD_FIELDS.join(', ')}`, event);
  }
  const record = event as Record<string, unknown>;
  if (isScheduledEvent(record)) return {};

  const unknown = Object.keys(record).filter((key) => !(PAYLOAD_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new UnknownFieldError(unknown);

  const request: SweepRequest = {};
  if (record.dryRun !== undefined) request.dryRun = readBoolean('dryRun', record.dryRun);
  if (record.keepDisabled !== undefined)
    request.keepDisabled = readBoolean('keepDisabled', record.keepDisabled);
  if (record.groups !== undefined) request.groups = readGroups(record.groups);
  if (record.namePrefix !== undefined) request.namePrefix = readNamePrefix(record.namePrefix);
  if (record.maxDeletes !== undefined) {
    request.maxDeletes = readInteger('maxDeletes', record.maxDeletes, 1, Number.MAX_SAFE_INTEGER);
  }
  if (record.graceMinutes !== undefined) {
    request.graceMinutes = readInteger('graceMinutes', record.graceMinutes, 0, MAX_GRACE_MINUTES);
  }
  return request;
}

function isScheduledEvent(record: Record<string, unknown>): boolean {
  return record.source === 'aws.events' && record['detail-type'] === 'Scheduled Event';
}

function readBoolean(field: string, value: unknown): boolean {
  // Strictly boolean: the string "false" is truthy in too many hands to accept it here.
  if (typeof value !== 'boolean') throw new InputError(field, 'true or false (a JSON boolean)', value);
  return value;
}

function readInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new InputError(field, `a whole number ${range}`, value);
  }
  return value;
}

function readGroups(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_GROUPS) {
    throw new InputError(
      'groups',
      `a non-empty array of up to ${MAX_GROUPS} schedule group names (leave it out to sweep every group)`,
      value,
    );
  }
  const seen = new Set<string>();
  for (const [index, name] of value.entries()) {
    if (typeof name !== 'string' || !GROUP_NAME_PATTERN.test(name)) {
      throw new InputError(`groups[${index}]`, `a schedule group name (${NAME_FORM})`, name);
    }
    if (seen.has(name)) throw new InputError(`groups[${index}]`, 'each group named once', name);
    seen.add(name);
  }
  return [...seen];
}

function readNamePrefix(value: unknown): string {
  if (typeof value !== 'string' || !GROUP_NAME_PATTERN.test(value)) {
    throw new InputError('namePrefix', `a schedule name prefix (${NAME_FORM})`, value);
  }
  return value;
}
