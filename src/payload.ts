// Reading invoke payloads (manual requests, the scheduled event, continuation payloads) into typed
// values. Like src/config.ts for the environment: every error names the field and the expected form,
// nothing unknown is ever ignored, and messages stay short whatever the input's size. Field rules
// are valibot schemas (src/validate.ts); unknown keys are named here, all of them, with suggestions.

import * as v from 'valibot';
import { clip, InputError } from './errors.ts';
import {
  exactObject,
  isoInstant,
  noSuchField,
  parseInput,
  suggestion,
  text,
  unknownKeys,
} from './validate.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** At most this many unknown keys are quoted in one message; the rest are counted. */
const MAX_NAMED_KEYS = 5;

/**
 * Throws when `record` has keys outside `known`: every unknown key is named (up to five, each with
 * a "did you mean" when one is close), then the allowed ones. `where` says whose payload it is.
 */
export function rejectUnknownFields(
  record: Record<string, unknown>,
  known: readonly string[],
  where: string,
): void {
  const unknown = unknownKeys(record, known);
  if (unknown.length === 0) return;
  throw new UnknownFieldError(unknown, known, where);
}

/**
 * Payload keys nobody knows. `fields` holds them all, each clipped as the message shows it (a key is
 * input too: the runtime logs this property); the message quotes the first few.
 */
export class UnknownFieldError extends InputError {
  readonly fields: string[];
  constructor(fields: string[], known: readonly string[], where: string) {
    super(clip(fields.join(', ')), `one of ${known.join(', ')}`);
    this.fields = fields.map((field) => clip(field));
    const quoted = fields
      .slice(0, MAX_NAMED_KEYS)
      .map((field) => `'${clip(field)}'${suggestion(field, known)}`)
      .join(', ');
    const more = fields.length > MAX_NAMED_KEYS ? ` and ${fields.length - MAX_NAMED_KEYS} more` : '';
    this.message = `Unknown field${fields.length > 1 ? 's' : ''} ${quoted}${more} in ${where}; allowed: ${known.join(', ')}`;
  }
}

/**
 * An object with exactly these fields (those in `optional` may be left out), checked by `schema`:
 * an unknown key is named first, then the first field that breaks its rule.
 */
export function readExact<const S extends v.GenericSchema>(
  field: string,
  value: unknown,
  fields: readonly string[],
  schema: S,
): v.InferOutput<S> {
  if (!isRecord(value)) throw new InputError(field, `a JSON object with fields ${fields.join(', ')}`, value);
  const unknown = unknownKeys(value, fields);
  if (unknown.length > 0) {
    const [first = ''] = unknown;
    throw new InputError(`${field}.${first}`, noSuchField(fields), value[first]);
  }
  return parseInput(schema, value, field);
}

/** The fields EventBridge puts in the event a schedule rule sends, in the order they are checked. */
const SCHEDULED_EVENT_FIELDS = [
  'source',
  'detail-type',
  'version',
  'id',
  'account',
  'time',
  'region',
  'resources',
  'detail',
] as const;

const RULE_ARN = /^arn:aws[a-z-]*:events:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:rule\/[\w.\-/]{1,256}$/;

/**
 * The event a schedule rule sends (EventBridge user guide, "Amazon EventBridge events": version "0",
 * a UUID id, the account, an ISO time without fractions or with milliseconds, the Region, the rule's
 * ARN as the only resource, an empty detail), field by field.
 */
const scheduledEvent = exactObject(
  {
    source: v.literal('aws.events', "'aws.events'"),
    'detail-type': v.literal('Scheduled Event', "'Scheduled Event'"),
    version: v.literal('0', "'0'"),
    id: v.pipe(v.string('an event id (a UUID)'), v.uuid('an event id (a UUID)')),
    account: text(/^\d{12}$/, 'an AWS account id (12 digits)'),
    time: isoInstant,
    region: text(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'an AWS Region such as us-east-1'),
    resources: v.pipe(
      v.array(text(RULE_ARN, 'an EventBridge rule ARN'), 'a list of one EventBridge rule ARN'),
      v.length(1, 'a list of one EventBridge rule ARN'),
    ),
    detail: exactObject({}, 'an empty object ({})'),
  },
  'a scheduled event',
);

/**
 * Whether `record` is the regular trigger's event. A record whose keys are all scheduled-event keys
 * looks like one and must then match it in every field, or it is refused naming the first field
 * that differs (`scheduled event.time`, ...); the rule ARN must name the event's own Region and
 * account. A record with any other key is not a scheduled event:
 * the caller reads it as a manual payload, so every unknown key (say `source` beside `dryRun`) is
 * refused by name, never ignored.
 */
export function isScheduledEvent(record: Record<string, unknown>): boolean {
  const keys = Object.keys(record);
  if (keys.length === 0) return false;
  if (!keys.every((key) => (SCHEDULED_EVENT_FIELDS as readonly string[]).includes(key))) return false;
  const event = parseInput(scheduledEvent, record, 'scheduled event');
  // The rule that sent it lives in the event's own account and Region: an ARN naming another one
  // differs from the real event in one field, so it is refused like any other difference.
  const [rule = ''] = event.resources;
  const [, , , ruleRegion, ruleAccount] = rule.split(':');
  if (ruleRegion !== event.region || ruleAccount !== event.account) {
    throw new InputError(
      'scheduled event.resources[0]',
      `an EventBridge rule ARN in the event's own Region and account (${event.region}, ${event.account})`,
      rule,
    );
  }
  return true;
}
