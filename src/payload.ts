// Reading invoke payloads (manual requests and continuation payloads) into typed values. Like
// src/config.ts for the environment: every error names the field and the expected form, and nothing
// unknown is ever ignored.
import { InputError } from './errors.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with exactly these fields (those in `optional` may be left out); an unknown one is named. */
export function readExact(
  field: string,
  value: unknown,
  fields: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (!isRecord(value)) throw new InputError(field, `a JSON object with fields ${fields.join(', ')}`, value);
  const unknown = Object.keys(value).find((key) => !fields.includes(key));
  if (unknown !== undefined) {
    throw new InputError(
      `${field}.${unknown}`,
      `no such field (allowed: ${fields.join(', ')})`,
      value[unknown],
    );
  }
  const missing = fields.find((key) => !optional.includes(key) && value[key] === undefined);
  if (missing !== undefined) throw new InputError(`${field}.${missing}`, 'a value (it is required)');
  return value;
}

export function readBoolean(field: string, value: unknown): boolean {
  // Strictly boolean: the string "false" is truthy in too many hands to accept it here.
  if (typeof value !== 'boolean') throw new InputError(field, 'true or false (a JSON boolean)', value);
  return value;
}

export function readInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new InputError(field, `a whole number ${range}`, value);
  }
  return value;
}

export function readCount(field: string, value: unknown): number {
  return readInteger(field, value, 0, Number.MAX_SAFE_INTEGER);
}

/** The fields EventBridge puts in the event a schedule rule sends. */
const SCHEDULED_EVENT_FIELDS = new Set([
  'version',
  'id',
  'detail-type',
  'source',
  'account',
  'time',
  'region',
  'resources',
  'detail',
]);

/**
 * The regular trigger's event, and nothing else: a payload that looks like one but carries any other
 * field (say dryRun) is treated as a manual payload, so the extra field is rejected, never ignored.
 */
export function isScheduledEvent(record: Record<string, unknown>): boolean {
  return (
    record.source === 'aws.events' &&
    record['detail-type'] === 'Scheduled Event' &&
    Object.keys(record).every((key) => SCHEDULED_EVENT_FIELDS.has(key))
  );
}
