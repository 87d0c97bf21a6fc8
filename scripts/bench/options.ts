// The benchmark's command line, parsed once into one typed object. Every bad flag is rejected with
// its name and the form it should take, before any process is started.
import { InputError } from '../../src/errors.ts';
import { HELP_OPTION, parseCommandLine, readDecimal, readWholeNumber } from '../cli.ts';

export const BenchMode = { sweep: 'sweep', naive: 'naive' } as const;
export type BenchMode = (typeof BenchMode)[keyof typeof BenchMode];

/** Which synthetic population to sweep: the default mixed account, or one where every schedule is finished. */
export const BenchMix = { mixed: 'mixed', finished: 'finished' } as const;
export type BenchMix = (typeof BenchMix)[keyof typeof BenchMix];

/** How the sweeper sends its hot requests: the lean path the Lambda uses, or the SDK's full `send` pipeline. */
export const RequestPath = { lean: 'lean', sdk: 'sdk' } as const;
export type RequestPath = (typeof RequestPath)[keyof typeof RequestPath];

/**
 * Where the sweep writes its tombstones: the DynamoDB tombstone store as deployed (in the emulator's
 * DynamoDB), or kept in the bench process and acknowledged at once, to measure what the store costs.
 */
export const TombstoneStore = { dynamodb: 'dynamodb', memory: 'memory' } as const;
export type TombstoneStore = (typeof TombstoneStore)[keyof typeof TombstoneStore];

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
  tombstones: TombstoneStore;
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
  '                       [--tombstones dynamodb|memory]',
  'Prints one JSON line on stdout (the record) and a short summary on stderr; a progress bar on a terminal.',
  'Exit 0 when the sweep deleted the finished schedules and nothing else (any it kept because their delete could',
  'not leave within 100 ms of their read named and counted: "safe, not exact"), 1 when not or when it failed, 2 for a',
  'bad option.',
].join('\n');

interface NumberFlag {
  key: 'schedules' | 'getTps' | 'deleteTps' | 'listTps' | 'latencyMs' | 'concurrency' | 'maxSeconds';
  min: number;
  max: number;
  integer: boolean;
}

const NUMBER_FLAGS: Record<string, NumberFlag> = {
  schedules: { key: 'schedules', min: 1, max: 10_000_000, integer: true },
  'get-tps': { key: 'getTps', min: 1, max: 100_000, integer: false },
  'delete-tps': { key: 'deleteTps', min: 1, max: 100_000, integer: false },
  'list-tps': { key: 'listTps', min: 1, max: 10_000, integer: false },
  'latency-ms': { key: 'latencyMs', min: 0, max: 10_000, integer: false },
  concurrency: { key: 'concurrency', min: 1, max: 512, integer: true },
  'max-seconds': { key: 'maxSeconds', min: 1, max: 86_400, integer: false },
};

const text = { type: 'string' } as const;
const BENCH_OPTIONS = {
  ...Object.fromEntries(Object.keys(NUMBER_FLAGS).map((name) => [name, text])),
  naive: { type: 'boolean' },
  'second-sweep': { type: 'boolean' },
  'advance-hours': text,
  seed: text,
  mix: text,
  'grace-minutes': text,
  'request-path': text,
  tombstones: text,
} as const;

/** The command line as `npm run bench` reads it: 'help' for --help or -h, else parseBenchArguments. */
export function parseBenchCommandLine(argv: readonly string[]): BenchOptions | 'help' {
  if (parseCommandLine(argv, { ...BENCH_OPTIONS, ...HELP_OPTION }).help) return 'help';
  return parseBenchArguments(argv);
}

export function parseBenchArguments(argv: readonly string[]): BenchOptions {
  const values = parseCommandLine(argv, BENCH_OPTIONS) as Record<string, string | boolean | undefined>;
  const options: BenchOptions = {
    ...BENCH_DEFAULTS,
    concurrency: undefined,
    mode: values.naive ? BenchMode.naive : BenchMode.sweep,
    maxSeconds: undefined,
    secondSweep: values['second-sweep'] === true,
    mix: BenchMix.mixed,
    requestPath: RequestPath.lean,
    tombstones: TombstoneStore.dynamodb,
  };
  for (const [name, spec] of Object.entries(NUMBER_FLAGS)) {
    const raw = values[name];
    if (typeof raw !== 'string') continue;
    const read = spec.integer ? readWholeNumber : readDecimal;
    options[spec.key] = read(`--${name}`, raw, spec.min, spec.max);
  }
  const string = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const advanceHours = string('advance-hours');
  if (advanceHours !== undefined)
    options.advanceHours = readDecimal('--advance-hours', advanceHours, 0, 720, 'hours');
  const seed = string('seed');
  if (seed !== undefined) options.seed = readWholeNumber('--seed', seed, 0, 4_294_967_295);
  const graceMinutes = string('grace-minutes');
  if (graceMinutes !== undefined) {
    options.graceMinutes = readWholeNumber('--grace-minutes', graceMinutes, 0, 10_080, 'minutes');
  }
  const mix = string('mix');
  if (mix !== undefined) {
    if (mix !== BenchMix.mixed && mix !== BenchMix.finished)
      throw new InputError('--mix', 'mixed or finished', mix);
    options.mix = mix;
  }
  const requestPath = string('request-path');
  if (requestPath !== undefined) {
    if (requestPath !== RequestPath.lean && requestPath !== RequestPath.sdk) {
      throw new InputError('--request-path', 'lean or sdk', requestPath);
    }
    options.requestPath = requestPath;
  }
  const tombstones = string('tombstones');
  if (tombstones !== undefined) {
    if (tombstones !== TombstoneStore.dynamodb && tombstones !== TombstoneStore.memory) {
      throw new InputError('--tombstones', 'dynamodb or memory', tombstones);
    }
    options.tombstones = tombstones;
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
