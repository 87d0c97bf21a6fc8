// The benchmark's command line, parsed once into one typed object. Every bad flag is rejected with
// its name and the form it should take, before any process is started.
import { InputError } from '../../src/errors.ts';

export const BenchMode = { sweep: 'sweep', naive: 'naive' } as const;
export type BenchMode = (typeof BenchMode)[keyof typeof BenchMode];

/** Which synthetic population to sweep: the default mixed account, or one where every schedule is finished. */
export const BenchMix = { mixed: 'mixed', finished: 'finished' } as const;
export type BenchMix = (typeof BenchMix)[keyof typeof BenchMix];

/** How the sweeper sends its hot requests: the lean path the Lambda uses, or the SDK's full `send` pipeline. */
export const RequestPath = { lean: 'lean', sdk: 'sdk' } as const;
export type RequestPath = (typeof RequestPath)[keyof typeof RequestPath];

export interface BenchOptions {
  schedules: number;
  getTps: number;
  deleteTps: number;
  listTps: number;
  latencyMs: number;
  /** Items in flight; undefined means "derive from the budgets and latency" (see defaultConcurrency). */
  concurrency: number | undefined;
  mode: BenchMode;
  /** Naive mode only: stop after this many seconds and extrapolate. */
  maxSeconds: number | undefined;
  secondSweep: boolean;
  /** How far the clock moves between the first and the second sweep, so some pending schedules become due. */
  advanceHours: number;
  seed: number;
  mix: BenchMix;
  graceMinutes: number;
  requestPath: RequestPath;
}

export const BENCH_DEFAULTS = {
  schedules: 10_000,
  getTps: 1_000,
  deleteTps: 1_000,
  listTps: 50,
  latencyMs: 20,
  advanceHours: 24,
  seed: 1,
  graceMinutes: 60,
} as const;

export const USAGE = [
  'Usage: npm run bench -- [--schedules N] [--get-tps G] [--delete-tps D] [--list-tps L] [--latency-ms MS]',
  '                       [--concurrency C] [--naive [--max-seconds S]] [--second-sweep [--advance-hours H]]',
  '                       [--seed S] [--mix mixed|finished] [--grace-minutes M] [--request-path lean|sdk]',
].join('\n');

interface NumberFlag {
  key: 'schedules' | 'getTps' | 'deleteTps' | 'listTps' | 'latencyMs' | 'concurrency' | 'maxSeconds';
  min: number;
  max: number;
  integer: boolean;
}

const NUMBER_FLAGS: Record<string, NumberFlag> = {
  '--schedules': { key: 'schedules', min: 1, max: 10_000_000, integer: true },
  '--get-tps': { key: 'getTps', min: 1, max: 100_000, integer: false },
  '--delete-tps': { key: 'deleteTps', min: 1, max: 100_000, integer: false },
  '--list-tps': { key: 'listTps', min: 1, max: 10_000, integer: false },
  '--latency-ms': { key: 'latencyMs', min: 0, max: 10_000, integer: false },
  '--concurrency': { key: 'concurrency', min: 1, max: 512, integer: true },
  '--max-seconds': { key: 'maxSeconds', min: 1, max: 86_400, integer: false },
};

export function parseBenchArguments(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    ...BENCH_DEFAULTS,
    concurrency: undefined,
    mode: BenchMode.sweep,
    maxSeconds: undefined,
    secondSweep: false,
    mix: BenchMix.mixed,
    requestPath: RequestPath.lean,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    const [flag, inline] = argument.includes('=')
      ? [argument.slice(0, argument.indexOf('=')), argument.slice(argument.indexOf('=') + 1)]
      : [argument, undefined];
    const value = (expected: string): string => {
      if (inline !== undefined) return inline;
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) throw new InputError(flag!, expected);
      index += 1;
      return next;
    };
    const numeric = flag === undefined ? undefined : NUMBER_FLAGS[flag];
    if (numeric) {
      const expected = `${numeric.integer ? 'a whole number' : 'a number'} from ${numeric.min} to ${numeric.max}`;
      const raw = value(expected);
      const parsed = Number(raw);
      if (
        raw.trim() === '' ||
        !Number.isFinite(parsed) ||
        parsed < numeric.min ||
        parsed > numeric.max ||
        (numeric.integer && !Number.isInteger(parsed))
      ) {
        throw new InputError(flag!, expected, raw);
      }
      options[numeric.key] = parsed;
      continue;
    }
    switch (flag) {
      case '--naive':
        options.mode = BenchMode.naive;
        break;
      case '--second-sweep':
        options.secondSweep = true;
        break;
      case '--advance-hours': {
        const raw = value('a number of hours from 0 to 720');
        const parsed = Number(raw);
        if (raw.trim() === '' || !(parsed >= 0 && parsed <= 720))
          throw new InputError(flag, 'a number of hours from 0 to 720', raw);
        options.advanceHours = parsed;
        break;
      }
      case '--seed': {
        const raw = value('a whole number from 0 to 4294967295');
        const parsed = Number(raw);
        if (raw.trim() === '' || !Number.isInteger(parsed) || parsed < 0 || parsed > 4_294_967_295)
          throw new InputError(flag, 'a whole number from 0 to 4294967295', raw);
        options.seed = parsed;
        break;
      }
      case '--grace-minutes': {
        const raw = value('a whole number of minutes from 0 to 10080');
        const parsed = Number(raw);
        if (raw.trim() === '' || !Number.isInteger(parsed) || parsed < 0 || parsed > 10_080)
          throw new InputError(flag, 'a whole number of minutes from 0 to 10080', raw);
        options.graceMinutes = parsed;
        break;
      }
      case '--mix': {
        const raw = value('mixed or finished');
        if (raw !== BenchMix.mixed && raw !== BenchMix.finished)
          throw new InputError(flag, 'mixed or finished', raw);
        options.mix = raw;
        break;
      }
      case '--request-path': {
        const raw = value('lean or sdk');
        if (raw !== RequestPath.lean && raw !== RequestPath.sdk)
          throw new InputError(flag, 'lean or sdk', raw);
        options.requestPath = raw;
        break;
      }
      default:
        throw new InputError('argument', `one of the flags in:\n${USAGE}\n`, argument);
    }
  }
  if (options.maxSeconds !== undefined && options.mode !== BenchMode.naive) {
    throw new InputError('--max-seconds', 'to be used together with --naive', String(options.maxSeconds));
  }
  if (options.secondSweep && options.mode === BenchMode.naive) {
    throw new InputError('--second-sweep', 'without --naive (the naive loop remembers nothing)', 'both');
  }
  return options;
}

/**
 * Items to keep in flight when none is given. Little's law: in flight = rate x time in flight. One
 * item holds its slot for a GetSchedule and, when finished, a DeleteSchedule: two round trips of
 * `latencyMs`, plus client and server work that reaches 10 ms or more a request when the two
 * processes share busy cores (at 1,000 requests a second the sweeper alone needs most of a core).
 * Twice that keeps paced slots from going unused. Capped at 200: the sweep never holds more than
 * two pages (2 x 100 items), so more could never be in flight.
 */
export function defaultConcurrency(options: Pick<BenchOptions, 'getTps' | 'latencyMs'>): number {
  const secondsPerItem = (2 * options.latencyMs + 25) / 1000;
  return Math.min(200, Math.max(8, Math.ceil(2 * options.getTps * secondsPerItem)));
}
