// The bench's few lines for people, printed on stderr beside its JSON line on stdout (which stays the
// machine-readable record: tests and scripts/bench/README.md read it). Durations by date-fns.
import { humanDuration } from '../human.ts';
import type { BenchResult } from './run.ts';

const OPERATIONS = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'] as const;

/** The summary of one run: what ran, how long, each budget's share and bound, CPU, and whether it was exact. */
export function benchSummary(result: BenchResult): string[] {
  const lines = [
    `bench: ${count(result.schedules)} schedules (${result.mix}), ${result.mode}, ${result.requestPath} request path, ` +
      `${result.latencyMs} ms latency${result.concurrency === undefined ? '' : `, concurrency ${result.concurrency}`}`,
    `took ${humanDuration(result.seconds * 1000)}${result.extrapolated ? ` (extrapolated from ${humanDuration((result.measuredSeconds ?? 0) * 1000)} measured)` : ''}: ` +
      `${count(result.schedulesPerSecond)} schedules a second`,
  ];
  const width = Math.max(...OPERATIONS.map((name) => name.length));
  for (const name of OPERATIONS) {
    const operation = result.operations[name];
    const rereads =
      name === 'GetSchedule' && result.rereads > 0 ? ` (${count(result.rereads)} re-reads)` : '';
    lines.push(
      `  ${name.padEnd(width)}  ${count(operation.calls)} requests${rereads}, ${count(operation.achievedTps)}/s = ` +
        `${share(operation.shareOfBudget)} of its ${count(operation.budgetTps)}/s budget; limited by ${operation.limitedBy}` +
        (operation.throttled > 0 ? `; ${count(operation.throttled)} throttled` : ''),
    );
  }
  lines.push(
    `CPU: ${result.cpuMsPerRequest.toFixed(3)} ms a Scheduler request in the sweeper (${humanDuration(result.cpuSeconds * 1000)} of CPU); ` +
      `one vCPU sustains ${count(result.sustainableRequestsPerSecond.perVcpu)} requests a second; ` +
      `host load ${result.host.loadAverageBefore}-${result.host.loadAverageAfter} on ${result.host.cpus} cores`,
  );
  if (result.requestPathFloor) {
    const floor = result.requestPathFloor;
    lines.push(
      `  the request path alone, a floor: ${floor.cpuMsPerRequest.toFixed(3)} ms a GetSchedule sent alone after the sweep ` +
        `(${count(floor.requests)} through the same client and budget), ${share(floor.shareOfSweep)} of the sweep's figure`,
    );
  }
  lines.push(exactness(result.correctness, result.failed));
  if (result.secondSweep) {
    const second = result.secondSweep;
    lines.push(
      `second sweep (${second.advancedHours} h later): ${humanDuration(second.seconds * 1000)}, ${count(second.getScheduleCalls)} GetSchedule ` +
        `for ${count(second.becameDue)} schedules that became due, ${count(second.recalled)} answered from memory; ` +
        exactness(second.correctness, 0),
    );
  }
  return lines;
}

export function exactness(correctness: BenchResult['correctness'], failed: number): string {
  const { expectedDeletes, deleted, unexpectedDeletes, remainingExpected, keptAtDeparture } = correctness;
  if (correctness.ok && remainingExpected === 0 && deleted === expectedDeletes) {
    return `exact: deleted the ${count(expectedDeletes)} finished schedules and nothing else`;
  }
  if (correctness.ok && keptAtDeparture > 0 && remainingExpected === keptAtDeparture) {
    return (
      `safe, not exact: deleted ${count(deleted)} of the ${count(expectedDeletes)} finished schedules and nothing else; ` +
      `${count(keptAtDeparture)} kept because their delete could not leave within 100 ms of their read ` +
      '(a machine too busy for the re-read window; the next sweep deletes them)'
    );
  }
  const parts = [
    `deleted ${count(deleted)} of ${count(expectedDeletes)} finished schedules`,
    unexpectedDeletes > 0 ? `${count(unexpectedDeletes)} NOT FINISHED DELETED` : '',
    remainingExpected > 0 ? `${count(remainingExpected)} finished left` : '',
    failed > 0 ? `${count(failed)} failed` : '',
  ].filter(Boolean);
  return `${correctness.ok ? 'not exact (stopped early)' : 'WRONG'}: ${parts.join(', ')}`;
}

function count(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

function share(value: number): string {
  return `${Math.round(value * 100)}%`;
}
