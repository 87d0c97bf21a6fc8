// The scale benchmark: sweeps a synthetic population in an emulator process with per-operation
// caps and latency, and prints one JSON line on stdout (time, rates against budgets, throttling, peak
// memory, correctness) and a short summary for people on stderr. See scripts/bench/README.md.
//   npm run bench -- --schedules 100000 --get-tps 1000 --delete-tps 1000 --list-tps 50 --latency-ms 20
import { pathToFileURL } from 'node:url';
import { SingleBar } from 'cli-progress';
import { parseBenchCommandLine, USAGE } from './bench/options.ts';
import { type BenchProgress, runBench } from './bench/run.ts';
import { benchSummary } from './bench/summary.ts';
import { ExitCode, runTool, type ToolIo } from './cli.ts';

export async function main(argv: string[], io: ToolIo): Promise<number> {
  const options = parseBenchCommandLine(argv);
  if (options === 'help') {
    io.stdout(USAGE);
    return ExitCode.ok;
  }
  const progress = process.stderr.isTTY === true ? progressBar() : undefined;
  let result: Awaited<ReturnType<typeof runBench>>;
  try {
    result = await runBench(options, progress?.update);
  } finally {
    progress?.stop();
  }
  io.stdout(JSON.stringify(result));
  for (const line of benchSummary(result)) io.stderr(line);
  const exact = result.correctness.ok && (!result.secondSweep || result.secondSweep.correctness.ok);
  return exact ? ExitCode.ok : ExitCode.failed;
}

/** A bar on stderr (a terminal only): seeding, then schedules listed and deletes sent. */
function progressBar() {
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'bench {phase} [{bar}] {value}/{total} listed | {deletes} deletes | {duration_formatted}',
    hideCursor: true,
  });
  let started = false;
  return {
    update: (progress: BenchProgress) => {
      const payload = { phase: progress.phase, deletes: progress.deleteRequests };
      if (!started) {
        bar.start(progress.total, progress.listed, payload);
        started = true;
      } else bar.update(progress.listed, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runTool('bench', main);
