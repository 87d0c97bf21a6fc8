// One way to check untrusted input (invoke payloads, environment variables, command-line options):
// valibot schemas whose messages are the expected form, and one bridge that turns the first issue
// into an InputError naming the field's full path. Also the one grammar for numbers written as text.
import * as v from 'valibot';
import { InputError } from './errors.ts';

/**
 * A whole number written as text: plain decimal digits, no sign, no leading zero, no spaces, no
 * exponent, no separators. '1e3', '0x10', ' 5', '5.0', '+5', '1_000' and '05' are all refused: a
 * value read in another notation than the writer meant could widen what a run deletes.
 */
export const DECIMAL_INTEGER = /^(?:0|[1-9][0-9]*)$/;
/** A number written as text: DECIMAL_INTEGER with an optional fraction ('2.5'); no exponent or sign. */
export const DECIMAL_NUMBER = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/** The expected form of a whole number in [min, max]. */
export function wholeNumberForm(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER
    ? `a whole number of at least ${min}`
    : `a whole number from ${min} to ${max}`;
}

/**
 * A JSON number that is a whole number in [min, max]; every failure says the same expected form.
 * -0 (JSON `-0`) is refused: it is 0 written in another notation.
 */
export function wholeNumber(min: number, max: number, expected = wholeNumberForm(min, max)) {
  return v.pipe(
    v.number(expected),
    v.integer(expected),
    v.check((value) => !Object.is(value, -0), expected),
    v.minValue(min, expected),
    v.maxValue(max, expected),
  );
}

/** A counter carried between invocations: a whole number, 0 or more. */
export const count = wholeNumber(0, Number.MAX_SAFE_INTEGER);

/** Strictly a JSON boolean: the string "false" is truthy in too many hands to accept it. */
export const flag = v.boolean('true or false (a JSON boolean)');

/** A string matching `pattern` in full; `expected` describes it. */
export function text(pattern: RegExp, expected: string) {
  return v.pipe(v.string(expected), v.regex(pattern, expected));
}

/** A JSON number of seconds, 0 or more (fractions allowed). */
export const seconds = v.pipe(
  v.number('a number of seconds, 0 or more'),
  v.finite('a number of seconds, 0 or more'),
  v.minValue(0, 'a number of seconds, 0 or more'),
);

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;

/**
 * An instant as Date.toISOString() writes it (milliseconds optional), and a real one: '2026-02-30'
 * is refused. Date.parse alone would take '1', 'Tue' or '2020' as dates.
 */
export const isoInstant = v.pipe(
  v.string('an ISO 8601 date-time in UTC, e.g. 2026-01-01T00:00:00.000Z'),
  v.regex(ISO_INSTANT, 'an ISO 8601 date-time in UTC, e.g. 2026-01-01T00:00:00.000Z'),
  v.check((value) => {
    const parsed = new Date(value);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 19) === value.slice(0, 19);
  }, 'a real ISO 8601 date-time in UTC, e.g. 2026-01-01T00:00:00.000Z'),
);

const OFFSET_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an absolute ISO 8601 instant with its offset (Z or ±hh:mm required; seconds and up to nine
 * fraction digits optional), read exactly as written: no spaces around it, and an impossible date or
 * time (02-30, 24:00, an offset of +24:00) is refused rather than rolled over into another day, as
 * Date.parse would. Returns undefined for anything else.
 */
export function parseIsoInstant(text: string): Date | undefined {
  const match = OFFSET_INSTANT.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '00', offset = 'Z'] = match;
  const calendar = new Date(
    Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute)),
  );
  if (
    calendar.getUTCFullYear() !== Number(year) ||
    calendar.getUTCMonth() !== Number(month) - 1 ||
    calendar.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59 ||
    (offset !== 'Z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59))
  ) {
    return undefined;
  }
  const instant = new Date(text);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}

/** The expected form for a field an object does not have: the fields it allows, or that it must be empty. */
export function noSuchField(allowed: readonly string[]): string {
  return allowed.length === 0
    ? 'no such field (an empty object, {}, is expected)'
    : `no such field (allowed: ${allowed.join(', ')})`;
}

/**
 * An object with exactly these entries. Unknown keys should be named before parsing (see
 * rejectUnknownKeys, which lists them all with suggestions); a missing one is named here.
 */
export function exactObject<const E extends v.ObjectEntries>(entries: E, expected: string) {
  return v.strictObject(entries, (issue) => {
    if (issue.expected === 'never') return noSuchField(Object.keys(entries));
    if (issue.input === undefined && issue.path !== undefined && issue.path.length > 0) {
      return 'a value (it is required)';
    }
    return expected;
  });
}

/** Parses `value` with `schema`, or throws an InputError naming `root` plus the path of the first issue. */
export function parseInput<const S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  root: string,
): v.InferOutput<S> {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new InputError(fieldOf(root, issue.path), issue.message, issue.input);
}

function fieldOf(root: string, path: readonly v.IssuePathItem[] | undefined): string {
  let field = root;
  for (const item of path ?? []) {
    const key = item.key;
    if (typeof key === 'number') field += `[${key}]`;
    else field += field === '' ? String(key) : `.${String(key)}`;
  }
  return field;
}

/** Unknown keys of `record` (own enumerable keys not in `known`). */
export function unknownKeys(record: Record<string, unknown>, known: readonly string[]): string[] {
  return Object.keys(record).filter((key) => !known.includes(key));
}

/** ` (did you mean 'dryRun'?)` when `key` differs from a known key only in case or by one edit. */
export function suggestion(key: string, known: readonly string[]): string {
  if (key.length > 64) return '';
  const lower = key.toLowerCase();
  const match =
    known.find((candidate) => candidate.toLowerCase() === lower) ??
    known.find((candidate) => editDistanceAtMostOne(candidate.toLowerCase(), lower));
  return match ? ` (did you mean '${match}'?)` : '';
}

function editDistanceAtMostOne(left: string, right: string): boolean {
  if (Math.abs(left.length - right.length) > 1) return false;
  let index = 0;
  while (index < left.length && left[index] === right[index]) index += 1;
  if (left.length === right.length) {
    // One substitution, or two neighbours swapped.
    return (
      left.slice(index + 1) === right.slice(index + 1) ||
      (left[index] === right[index + 1] &&
        left[index + 1] === right[index] &&
        left.slice(index + 2) === right.slice(index + 2))
    );
  }
  const [shorter, longer] = left.length < right.length ? [left, right] : [right, left];
  return shorter.slice(index) === longer.slice(index + 1);
}
