// Reading environment variables into typed values. Every error names the variable and the
// expected form; the per-function configs (sweep, census, create) are built from these readers.
import { ConfigError } from './errors.ts';

export type Env = Record<string, string | undefined>;

export function readString(env: Env, name: string, fallback?: string): string {
  const raw = env[name]?.trim();
  if (raw) return raw;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(name, 'a non-empty string', raw);
}

export function readOptionalString(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

export function readNumber(
  env: Env,
  name: string,
  bounds: { min: number; max: number; fallback: number; integer?: boolean },
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return bounds.fallback;
  const value = Number(raw);
  const integer = bounds.integer ?? true;
  if (
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < bounds.min ||
    value > bounds.max
  ) {
    throw new ConfigError(
      name,
      `${integer ? 'a whole number' : 'a number'} from ${bounds.min} to ${bounds.max}`,
      raw,
    );
  }
  return value;
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, "'true' or 'false'", env[name]);
}

/** Comma-separated list; empty or unset means the fallback. */
export function readList(env: Env, name: string, pattern: RegExp, expected: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const item of items) {
    if (!pattern.test(item)) throw new ConfigError(name, expected, raw);
  }
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
