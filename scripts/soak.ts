// The randomized fault test of the sweep handler, for longer than `npm test` runs it, or one seed
// replayed with its scenario and every violation printed.
//
//   npm run soak -- --seeds 2000            # seeds 1..2000 (or from --first)
//   npm run soak -- --seed 122              # one seed: prints its scenario, invocations and violations
//   npm run soak -- --seeds 500 --first 10000 --workers 4
//   npm run soak -- --census --seeds 500  # the census handler instead of the sweep
//
// Exits 1 when any invariant is broken, pending ones included (see test/faults/sweep-faults.test.ts).
import {
  runCensusScenario,
  runScenario,
  runSeeds,
  type ScenarioOutcome,
  scenarioFor,
  startWorld,
} from '../test/faults/harness.ts';
import { parseCommandLine, readWholeNumber } from './cli.ts';

const USAGE = 'usage: npm run soak -- [--census] [--seeds N] [--first S] [--workers W] | [--census] --seed S';

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  return raw === undefined ? fallback : readWholeNumber(`--${name}`, raw, 1, 999_999_999);
}

function report(outcome: ScenarioOutcome): void {
  for (const violation of outcome.violations) {
    console.log(`seed ${outcome.seed} [${violation.invariant}] ${violation.message}`);
  }
}

async function main(): Promise<number> {
  let values: { seeds?: string; first?: string; workers?: string; seed?: string; census?: boolean };
  try {
    values = parseCommandLine(process.argv.slice(2), {
      seeds: { type: 'string' },
      first: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      census: { type: 'boolean' },
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  const runner = values.census === true ? runCensusScenario : runScenario;
  if (values.seed !== undefined) {
    if (values.seeds !== undefined || values.first !== undefined) {
      throw new Error(`--seed replays one seed; it does not combine with --seeds or --first\n${USAGE}`);
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
  await runSeeds(
    seeds,
    workers,
    (outcome) => {
      done += 1;
      if (outcome.violations.length > 0) failing += 1;
      report(outcome);
      if (done % 100 === 0) {
        console.log(
          `${done}/${count} seeds, ${failing} failing, ${Math.round((Date.now() - started) / 1000)} s`,
        );
      }
    },
    runner,
  );
  console.log(
    `${count} seeds from ${first}: ${failing} failing, ${Math.round((Date.now() - started) / 1000)} s`,
  );
  return failing === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
