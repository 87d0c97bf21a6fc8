// The scale benchmark: sweeps a synthetic population in an emulator process with per-operation
// caps and latency, and prints one JSON line (time, rates against budgets, throttling, peak memory,
// correctness). See scripts/bench/README.md for the figures and how to read them.
//   npm run bench -- --schedules 100000 --get-tps 1000 --delete-tps 1000 --list-tps 50 --latency-ms 20
import { InputError } from '../src/errors.ts';
import { parseBenchArguments, USAGE } from './bench/options.ts';
import { runBench } from './bench/run.ts';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  let options: ReturnType<typeof parseBenchArguments>;
  try {
    options = parseBenchArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  const result = await runBench(options);
  console.log(JSON.stringify(result));
  if (!result.correctness.ok || (result.secondSweep && !result.secondSweep.correctness.ok))
    process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
