// The randomized fault test of the sweep handler, for longer than `npm test` runs it, or one seed
// replayed with its scenario and every violation printed.
//
//   npm run soak -- --seeds 2000            # seeds 1..2000 (or from --first)
//   npm run soak -- --seed 122              # one seed: prints its scenario, invocations and violations
//   npm run soak -- --seeds 500 --first 10000 --workers 4
//   npm run soak -- --census --seeds 500  # the census handler instead of the sweep
//
// Exits 1 when any invariant is broken, pending ones included (see test/faults/sweep-faults.test.ts),
// 2 for a command line it does not understand. A progress bar on stderr when it is a terminal.
import { pathToFileURL } from 'node:url';
import { SingleBar } from 'cli-progress';
import { InputError } from '../src/errors.ts';
import {
  runCensusScenario,
  runScenario,
  runSeeds,
  type ScenarioOutcome,
  scenarioFor,
  startWorld,
} from '../test/faults/harness.ts';
import { ExitCode, HELP_OPTION, parseCommandLine, readWholeNumber, runTool, type ToolIo } from './cli.ts';

const USAGE = `Usage: npm run soak -- [--census] [--seeds N] [--first S] [--workers W] | [--census] --seed S
  --seeds N    run seeds S..S+N-1 (default 200 from 1); --workers W at once (default 4)
  --seed S     replay one seed: its scenario, invocations and violations
  --census     the census handler instead of the sweep`;

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  return raw === undefined ? fallback : readWholeNumber(`--${name}`, raw, 1, 999_999_999);
}

function report(outcome: ScenarioOutcome): void {
  for (const violation of outcome.violations) {
    console.log(`seed ${outcome.seed} [${violation.invariant}] ${violation.message}`);
  }
}

export async function main(argv: string[], io: ToolIo): Promise<number> {
  const values = parseCommandLine(argv, {
    seeds: { type: 'string' },
    first: { type: 'string' },
    workers: { type: 'string' },
    seed: { type: 'string' },
    census: { type: 'boolean' },
    ...HELP_OPTION,
  });
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.ok;
  }
  const runner = values.census === true ? runCensusScenario : runScenario;
  if (values.seed !== undefined) {
    if (values.seeds !== undefined || values.first !== undefined) {
      throw new InputError(
        '--seed',
        'alone: it replays one seed and does not combine with --seeds or --first',
      );
    }
    const seed = positiveInteger('seed', values.seed, 1);
    const scenario = scenarioFor(seed);
    console.log(JSON.stringify({ scenario }, null, 2));
    const world = await startWorld();
    try {
      const outcome = await runner(world, scenario);
      for (const invocation of outcome.invocations) {
        const { result } = invocation;
        console.log(
          `invocation ${invocation.index} (${invocation.event}${invocation.duplicate ? ', duplicate' : ''}): ` +
            (invocation.killed
              ? 'killed'
              : invocation.threw !== undefined
                ? `threw ${invocation.threw}`
                : values.census === true
                  ? `${invocation.censusResult?.status}`
                  : `${result?.status}${result && 'deleted' in result ? ` deleted=${result.deleted}` : ''}`),
        );
      }
      report(outcome);
      console.log(`seed ${seed}: ${outcome.deletes} deletes, ${outcome.violations.length} violations`);
      return outcome.violations.length === 0 ? 0 : 1;
    } finally {
      await world.close();
    }
  }
  const count = positiveInteger('seeds', values.seeds, 200);
  const first = positiveInteger('first', values.first, 1);
  const workers = positiveInteger('workers', values.workers, 4);
  const started = Date.now();
  let done = 0;
  let failing = 0;
  const seeds = Array.from({ length: count }, (_, index) => first + index);
  // On a terminal a bar on stderr; otherwise (CI, a file) a line every 100 seeds on stdout.
  const bar = process.stderr.isTTY
    ? new SingleBar({
        stream: process.stderr,
        format:
          'soak [{bar}] {value}/{total} seeds | {failing} failing | {duration_formatted} (eta {eta_formatted})',
        hideCursor: true,
      })
    : undefined;
  bar?.start(count, 0, { failing: 0 });
  try {
    await runSeeds(
      seeds,
      workers,
      (outcome) => {
        done += 1;
        if (outcome.violations.length > 0) failing += 1;
        report(outcome);
        bar?.increment(1, { failing });
        if (!bar && done % 100 === 0) {
          console.log(
            `${done}/${count} seeds, ${failing} failing, ${Math.round((Date.now() - started) / 1000)} s`,
          );
        }
      },
      runner,
    );
  } finally {
    bar?.stop();
  }
  console.log(
    `${count} seeds from ${first}: ${failing} failing, ${Math.round((Date.now() - started) / 1000)} s`,
  );
  return failing === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runTool('soak', main);
