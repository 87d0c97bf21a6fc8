// The few error classes the service throws. Each names what was wrong and the expected form.

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
    super(`Expected ${variable} to be ${expected}, got ${got === undefined ? 'nothing' : `'${got}'`}`);
  }
}

/** A field of an invoke payload or library input is invalid. Nothing has been changed. */
export class InputError extends HygieneError {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly got?: unknown,
  ) {
    super(`Invalid ${field}: expected ${expected}${got === undefined ? '' : `, got ${describe(got)}`}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 80 ? `${value.slice(0, 77)}...` : value}'`;
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}
