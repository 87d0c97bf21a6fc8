// The few error classes the service throws. Each names what was wrong and the expected form.
// Messages stay short whatever the input: echoed values and field names are clipped (see clip).

/** Base class: sets `name` so logs and summaries show the concrete type. */
export class HygieneError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An environment variable is missing or malformed. Thrown at cold start, before any AWS call. */
export class ConfigError extends HygieneError {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string | undefined,
  ) {
    super(`Expected ${variable} to be ${expected}, got ${got === undefined ? 'nothing' : `'${clip(got)}'`}`);
  }
}

/** A field of an invoke payload or library input is invalid. Nothing has been changed. */
export class InputError extends HygieneError {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly got?: unknown,
  ) {
    super(`Invalid ${clip(field)}: expected ${expected}${got === undefined ? '' : `, got ${describe(got)}`}`);
  }
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
