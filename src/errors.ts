// The few error classes the service throws. Each names what was wrong and the expected form.
// Messages stay short whatever the input: echoed values and field names are clipped (see clip), and
// so is every other property an error keeps: the Lambda runtime's "Invoke Error" line logs an
// error's own properties (and util.inspect shows its cause), so none may hold more of an input than
// its message does.
import { fingerprint } from './redact.ts';

/** Base class: sets `name` so logs and summaries show the concrete type. */
export class HygieneError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An environment variable is missing or malformed. Thrown at cold start, before any AWS call. `got`
 * is the value as the message shows it: clipped (MAX_ECHO_LENGTH), control characters escaped.
 */
export class ConfigError extends HygieneError {
  readonly got: string | undefined;
  constructor(
    readonly variable: string,
    readonly expected: string,
    got: string | undefined,
  ) {
    super(`Expected ${variable} to be ${expected}, got ${got === undefined ? 'nothing' : `'${clip(got)}'`}`);
    this.got = got === undefined ? undefined : clip(got);
  }
}

/**
 * Fields whose value is, or may hold, a schedule's target content (`input`, `--input`, `Target.Input`,
 * `targetArn`, `deadLetterArn` and other target parameters, and a whole invoke `payload`, which may
 * be the input sent to the wrong function): it may hold customer secrets, so an error never echoes
 * it, only its size and SHA-256 (src/redact.ts fingerprint). redact.ts's SENSITIVE_FIELD adds `event` for
 * log lines, which may carry a whole invoke event; a scheduled event's own fields (`scheduled
 * event.detail-type`) are no customer data, so an InputError still names their value.
 */
export const TARGET_CONTENT_FIELD = /input|target|payload|deadletter/i;

/**
 * A field of an invoke payload or library input is invalid. Nothing has been changed. The message
 * and `got` carry the offending value clipped (a string to MAX_ECHO_LENGTH characters, anything else
 * as its clipped JSON; numbers, booleans and null as they are), except for a target-content field
 * (TARGET_CONTENT_FIELD), where both carry only `<n> bytes, SHA-256 <hex>`. `field` is clipped too
 * (a payload's unknown key is input as well).
 */
export class InputError extends HygieneError {
  readonly field: string;
  readonly got?: unknown;
  constructor(
    field: string,
    readonly expected: string,
    got?: unknown,
  ) {
    const redacted = got !== undefined && TARGET_CONTENT_FIELD.test(field) ? sizeAndHash(got) : undefined;
    const shown = redacted ?? (got === undefined ? '' : describe(got));
    super(`Invalid ${clip(field)}: expected ${expected}${got === undefined ? '' : `, got ${shown}`}`);
    this.field = clip(field);
    if (got !== undefined) this.got = redacted ?? clipped(got);
  }
}

/** A value as an error may keep it: scalars as they are, a string clipped, anything else as describe() shows it. */
function clipped(value: unknown): unknown {
  if (typeof value === 'string') return clip(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  return describe(value);
}

function sizeAndHash(value: unknown): string {
  const { bytes, sha256 } = fingerprint(value);
  return `a value of ${bytes} bytes (SHA-256 ${sha256})`;
}

/** At most this many characters of any value a message echoes (a field name, a value typed in). */
export const MAX_ECHO_LENGTH = 80;

/** The text, or its first characters and '...' when longer than `max`; control characters escaped. */
export function clip(text: string, max = MAX_ECHO_LENGTH): string {
  const short = text.length > max ? `${text.slice(0, max - 3)}...` : text;
  // A newline or escape sequence in an echoed value must not forge or garble a log line.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping exactly these characters
  return short.replace(/[\u0000-\u001f\u007f]/g, (character) => JSON.stringify(character).slice(1, -1));
}

/** A short description of any value: strings quoted and clipped, arrays and objects by their JSON start. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${clip(value)}'`;
  if (Array.isArray(value) && value.length > MAX_ECHO_LENGTH) return `an array of ${value.length} items`;
  try {
    // Objects are stringified in full before clipping: inputs are bounded by Lambda's payload limit.
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : clip(text);
  } catch {
    return String(value);
  }
}
