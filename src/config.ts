// Reading environment variables into typed values. Every error names the variable and the
// expected form; the per-function configs (sweep, census, create) are built from these readers.
//
// What counts as "not set": the variable missing, or exactly '' (how serverless passes an empty
// parameter). Anything else is read exactly as written, never trimmed toward a default: ' ' is not
// empty, ' 5' is not 5, and SWEEP_GROUPS=',' is not "every group".
import * as v from 'valibot';
import { ConfigError } from './errors.ts';
import { DECIMAL_INTEGER, wholeNumberForm } from './validate.ts';

export type Env = Record<string, string | undefined>;

/** The variable's value, or undefined when it is unset or ''. */
function given(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** Parses a set variable with `schema`; the first issue's message is the expected form. */
function readWith<const S extends v.GenericSchema<string, unknown>>(
  schema: S,
  name: string,
  raw: string,
): v.InferOutput<S> {
  const result = v.safeParse(schema, raw, { abortEarly: true });
  if (!result.success) throw new ConfigError(name, result.issues[0].message, raw);
  return result.output;
}

export function readString(env: Env, name: string, fallback?: string): string {
  const raw = given(env, name);
  if (raw !== undefined) return raw;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(name, 'a non-empty string', env[name]);
}

export function readOptionalString(env: Env, name: string): string | undefined {
  return given(env, name);
}

/** A whole number in [min, max], written in plain decimal digits (see DECIMAL_INTEGER). */
export function readNumber(
  env: Env,
  name: string,
  bounds: { min: number; max: number; fallback: number },
): number {
  const raw = given(env, name);
  if (raw === undefined) return bounds.fallback;
  const expected = wholeNumberForm(bounds.min, bounds.max);
  return readWith(
    v.pipe(
      v.string(),
      v.maxLength(16, expected),
      v.regex(DECIMAL_INTEGER, expected),
      v.transform(Number),
      v.minValue(bounds.min, expected),
      v.maxValue(bounds.max, expected),
    ),
    name,
    raw,
  );
}

/** Exactly 'true' or 'false'. */
export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = given(env, name);
  if (raw === undefined) return fallback;
  return readWith(
    v.pipe(
      v.picklist(['true', 'false'], "'true' or 'false'"),
      v.transform((value) => value === 'true'),
    ),
    name,
    raw,
  );
}

/** Exactly one of `choices`, as written (no case folding, no trimming). */
export function readChoice<const C extends string>(
  env: Env,
  name: string,
  choices: readonly C[],
  fallback: C,
): C {
  const raw = given(env, name);
  if (raw === undefined) return fallback;
  const expected = choices.map((choice) => `'${choice}'`).join(' or ');
  return readWith(v.picklist(choices, expected), name, raw);
}

/**
 * Comma-separated list; unset or '' means an empty list, which the caller describes in `emptyMeans`
 * (e.g. 'unset or empty for every group'), so the error says what leaving it empty does. Spaces
 * around an item are allowed; an empty item (',', 'a,,b', ' , ') is refused, not dropped, and so is
 * a name given twice.
 */
export function readList(
  env: Env,
  name: string,
  pattern: RegExp,
  expected: string,
  emptyMeans: string,
): string[] {
  const raw = given(env, name);
  if (raw === undefined) return [];
  const items = raw.split(',').map((item) => item.trim());
  const form = `${expected}, or ${emptyMeans}`;
  items.forEach((item, index) => {
    if (item === '') throw new ConfigError(name, `${form} (item ${index + 1} is empty)`, raw);
    if (!pattern.test(item)) throw new ConfigError(name, `${form} (item ${index + 1} is not one)`, raw);
  });
  // A name given twice would be swept (or counted) twice.
  if (new Set(items).size !== items.length) throw new ConfigError(name, `${expected}, each named once`, raw);
  return items;
}

/** CloudWatch namespace rules: 1-255 chars, no leading colon, not AWS/. */
export function readNamespace(env: Env, name: string, fallback: string): string {
  const value = readString(env, name, fallback);
  if (!/^[A-Za-z0-9.\-_/#:]{1,255}$/.test(value) || value.startsWith(':') || value.startsWith('AWS/')) {
    throw new ConfigError(
      name,
      'a CloudWatch namespace (1-255 of A-Z a-z 0-9 . - _ / # :, not starting with AWS/)',
      value,
    );
  }
  return value;
}

/** DynamoDB table names: 3-255 of a-z A-Z 0-9 _ - . */
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/** An optional DynamoDB table name; unset or '' means none. */
export function readTableName(env: Env, name: string): string | undefined {
  const value = readOptionalString(env, name);
  if (value !== undefined && !TABLE_NAME.test(value)) {
    throw new ConfigError(name, 'a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .)', value);
  }
  return value;
}
