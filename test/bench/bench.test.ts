// The benchmark at small scale: its emulator process, the real sweep, the JSON it prints, and the
// correctness check that a benchmark figure is worthless without. Plus its command-line validation.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BenchMode, defaultConcurrency, parseBenchArguments } from '../../scripts/bench/options.ts';
import { boundOf, FLOOR_REQUESTS, judge, NEAR_CEILING, runBench } from '../../scripts/bench/run.ts';
import { benchSummary, exactness } from '../../scripts/bench/summary.ts';
import { humanDuration } from '../../scripts/human.ts';
import { LIST_LOOKAHEAD_PAGES } from '../../src/sweep/listing.ts';

const OPERATIONS = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'] as const;

/** High caps and no latency, so a small run takes seconds. */
const FAST = ['--get-tps', '4000', '--delete-tps', '4000', '--list-tps', '200', '--latency-ms', '0'];

describe('npm run bench', () => {
  it('sweeps a small synthesized population exactly and reports every figure per operation', async () => {
    // Prepare: high caps and no latency, so the run takes seconds.
    const options = parseBenchArguments(['--schedules', '2000', ...FAST, '--seed', '7']);

    // Act
    const result = await runBench(options);

    // Assess: the expected finished set, and nothing else, was deleted through the API; a delete that
    // could not leave within 100 ms of its read (a machine too busy for the window) is kept, counted
    // by the sweep as staleAtDeparture, and nothing else is left.
    const { keptAtDeparture } = result.correctness;
    expect(result.correctness).toMatchObject({
      unexpectedDeletes: 0,
      remainingExpected: keptAtDeparture,
      ok: true,
    });
    expect(result.correctness.expectedDeletes).toBeGreaterThan(0);
    // How many are kept that way depends on how busy the machine is (a third or more under a heavy
    // load), not on the code: only that the sweep deleted is asked of it here.
    expect(result.correctness.deleted).toBeGreaterThan(0);
    expect(result.correctness.deleted + keptAtDeparture).toBe(result.correctness.expectedDeletes);
    // Every schedule was looked up once, every finished one deleted once, 20 pages listed; a delete
    // that would have left more than 100 ms after its last read (a busy machine) read it again, as
    // many times as its departure was refused, and the sweep counts each re-read.
    expect(result.schedulesLookedUp).toBe(2000);
    expect(result.operations.DeleteSchedule.calls).toBe(result.correctness.deleted);
    expect(result.operations.ListSchedules.calls).toBe(20);
    for (const name of OPERATIONS) {
      const operation = result.operations[name];
      expect(operation.achievedTps).toBeGreaterThan(0);
      expect(operation.achievedTps).toBeLessThanOrEqual(operation.budgetTps * 1.01);
      expect(operation.shareOfBudget).toBeCloseTo(operation.achievedTps / operation.budgetTps, 2);
    }
    expect(result.throttled).toBe(0);
    expect(result.failed).toBe(0);
    expect(result.peakRssMiB).toBeGreaterThanOrEqual(result.baselineRssMiB);
    expect(result.emulator.pid).not.toBe(process.pid);
    expect(result.seconds).toBeGreaterThan(0);
    // The sweeper's CPU cost per request and what it means for a Lambda's CPU share (values are
    // timing-dependent: only their presence and consistency are checked).
    expect(result.requestPath).toBe('lean');
    expect(result.requestsSent).toBe(
      OPERATIONS.reduce((sum, name) => sum + result.operations[name].calls, 0),
    );
    expect(result.cpuSeconds).toBeGreaterThan(0);
    expect(result.cpuMsPerRequest).toBeCloseTo((result.cpuSeconds * 1000) / result.requestsSent, 2);
    expect(Object.keys(result.sustainableRequestsPerSecond.byLambdaMemoryMb)).toEqual([
      '256',
      '512',
      '1024',
      '1769',
    ]);
    expect(result.sustainableRequestsPerSecond.perVcpu).toBeGreaterThan(0);
    // Every request, DynamoDB's included: the tombstone store's calls, its write latency, the re-reads.
    const tombstones = result.tombstones!;
    expect(tombstones.store).toBe('dynamodb');
    expect(tombstones.requests.UpdateItem).toBe(0);
    expect(tombstones.requests.BatchWriteItem).toBeGreaterThan(0);
    // The state table's requests too: the gate's protected-name reads.
    expect(result.dynamodbRequestsSent).toBeGreaterThan(tombstones.requests.BatchWriteItem ?? 0);
    expect(result.cpuMsPerRequestAll).toBeCloseTo(
      (result.cpuSeconds * 1000) / (result.requestsSent + result.dynamodbRequestsSent),
      2,
    );
    expect(tombstones.writeLatencyMs.writes).toBe(result.correctness.expectedDeletes);
    const { p50, p90, p99, max, over100ms } = tombstones.writeLatencyMs;
    expect(p50).toBeLessThanOrEqual(p90);
    expect(p90).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(Math.ceil(max));
    expect(over100ms).toBeLessThanOrEqual(tombstones.writeLatencyMs.writes);
    expect(result.schedulesLookedUp).toBe(2000);
    expect(result.rereads).toBe(result.operations.GetSchedule.calls - 2000);
    expect(result.emulator.cpuSeconds).toBeGreaterThan(0);
    // The request path alone, after the sweep: GetSchedule for the schedules left, each answered,
    // through the same client and a budget like the sweep's (its CPU is timing-dependent).
    const floor = result.requestPathFloor!;
    expect(floor).toMatchObject({ requests: FLOOR_REQUESTS, answered: FLOOR_REQUESTS });
    expect(floor.cpuMsPerRequest).toBeGreaterThan(0);
    expect(floor.shareOfSweep).toBeCloseTo(floor.cpuMsPerRequest / result.cpuMsPerRequest, 1);
    // One JSON line: the result survives serialization unchanged.
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);

    // A ceiling is named as the bound only when the rate came near it (these caps are far above
    // what a small run on a shared machine reaches).
    for (const name of OPERATIONS) {
      const operation = result.operations[name];
      if (
        operation.limitedBy === 'own budget' ||
        (OPERATIONS as readonly string[]).includes(operation.limitedBy)
      ) {
        expect(operation.shareOfCeiling).toBeGreaterThanOrEqual(NEAR_CEILING);
      }
    }
    expect(result.operations.GetSchedule.shareOfCeiling).toBeLessThan(NEAR_CEILING);
    expect(result.operations.GetSchedule.limitedBy).not.toBe('own budget');

    // The summary for people: sizes, duration, each budget's share and bound, CPU, exact or not.
    const summary = benchSummary(result);
    expect(summary[0]).toBe(
      `bench: 2,000 schedules (mixed), sweep, lean request path, 0 ms latency, concurrency ${result.concurrency}`,
    );
    expect(summary[1]).toMatch(new RegExp(`^took ${humanDuration(result.seconds * 1000)}: `));
    for (const name of OPERATIONS) {
      const operation = result.operations[name];
      expect(summary).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^  ${name} +[\\d,]+ requests.*= ${Math.round(operation.shareOfBudget * 100)}% of its [\\d,]+/s budget; limited by ${operation.limitedBy}$`,
          ),
        ),
      );
    }
    expect(summary).toContainEqual(expect.stringMatching(/^CPU: \d+\.\d{3} ms a Scheduler request/));
    expect(summary).toContainEqual(
      `  the request path alone, a floor: ${floor.cpuMsPerRequest.toFixed(3)} ms a GetSchedule sent alone after the sweep ` +
        `(2,000 through the same client and budget), ${Math.round(floor.shareOfSweep * 100)}% of the sweep's figure`,
    );
    expect(summary.at(-1)).toBe(
      keptAtDeparture === 0
        ? `exact: deleted the ${result.correctness.expectedDeletes.toLocaleString('en-US')} finished schedules and nothing else`
        : `safe, not exact: deleted ${result.correctness.deleted.toLocaleString('en-US')} of the ${result.correctness.expectedDeletes.toLocaleString('en-US')} finished schedules and nothing else; ${keptAtDeparture} kept because their delete could not leave within 100 ms of their read (a machine too busy for the re-read window; the next sweep deletes them)`,
    );
  });

  it('lists the names for the request path alone within the ListSchedules budget, however low', async () => {
    // Prepare: a budget of 2 pages a second; the floor lists the 5 pages left after the sweep.
    const options = parseBenchArguments([
      ...['--schedules', '1000', '--list-tps', '2', '--get-tps', '4000', '--delete-tps', '4000'],
      ...['--latency-ms', '5', '--seed', '3'],
    ]);

    // Act
    const result = await runBench(options);

    // Assess: paced like the sweep's listing, so not one page was refused (a refusal failed the run).
    expect(result.correctness.ok).toBe(true);
    expect(result.requestPathFloor).toMatchObject({ requests: 1000, answered: 1000 });
  });

  it('sweeps an unchanged population a second time looking up only the schedules that became due', async () => {
    // Prepare: the clock moves a day between sweeps, so schedules inside their retry window become due.
    const options = parseBenchArguments(['--schedules', '1500', ...FAST, '--second-sweep']);

    // Act
    const result = await runBench(options);

    // Assess
    expect(result.correctness.ok).toBe(true);
    const second = result.secondSweep!;
    expect(second.becameDue).toBeGreaterThan(0);
    // A busy machine keeps some at departure (carried over), as many as its load makes late; a gate
    // that kept every finished schedule would otherwise pass as "safe".
    expect(result.correctness.deleted).toBeGreaterThan(0);
    expect(second.carriedOver).toBe(result.correctness.keptAtDeparture);
    // Exactly the due ones, and what the first sweep kept at departure on a busy machine (carriedOver:
    // finished, so looked up again); a schedule may also come due during the sweep itself.
    expect(second.schedulesLookedUp).toBeGreaterThanOrEqual(second.becameDue + second.carriedOver);
    expect(second.schedulesLookedUp).toBeLessThanOrEqual(
      second.becameDue + second.carriedOver + second.becameDueDuringSweep,
    );
    expect(second.lookedUpOnlyDue).toBe(true);
    // Re-reads before deletes come on top, and only on top: how many depends on the machine's load.
    expect(second.rereads).toBe(second.getScheduleCalls - second.schedulesLookedUp);
    expect(second.rereads).toBeGreaterThanOrEqual(0);
    expect(second.listShareOfBudget).toBeCloseTo(second.listSchedulesPerSecond / 200, 2);
    // Where the listing's time went (timing-dependent: only presence and consistency are checked).
    expect(second.listRoundTripMs).toBeGreaterThan(0);
    expect(second.listRoundTripCeilingShare).toBeCloseTo(Math.min(1, 1000 / second.listRoundTripMs / 200), 2);
    expect(second.listInFlightShare).toBeGreaterThan(0);
    expect(second.listInFlightShare).toBeLessThanOrEqual(1);
    expect(second.listLookaheadPages).toBe(LIST_LOOKAHEAD_PAGES);
    expect(second.emulatorCpuSeconds).toBeGreaterThan(0);
    // Both are rounded (seconds to 1 ms): within half a millisecond a page, over a few pages.
    expect(second.emulatorCpuMsPerPage).toBeCloseTo(
      (second.emulatorCpuSeconds * 1000) / second.listScheduleCalls,
      0,
    );
    expect(second.requestsSent).toBeGreaterThanOrEqual(second.listScheduleCalls + second.getScheduleCalls);
    expect(second.cpuMsPerRequest).toBeGreaterThan(0);
    // The memory held every listed schedule but those the first sweep kept at departure (a busy
    // machine's: never remembered, so looked up again), read each once, and wrote what lookups taught.
    expect(second.memory.reads).toBe(1500 - result.correctness.deleted - second.carriedOver);
    expect(result.memory?.writes).toBeGreaterThan(0);
    // The tombstone store's requests are counted apart from the memory's and the lease's, and all in the total.
    const tombstoneCalls = result.tombstones?.requests.BatchWriteItem ?? 0;
    expect(tombstoneCalls).toBeGreaterThan(0);
    expect(result.dynamodbRequestsSent).toBeGreaterThanOrEqual(
      tombstoneCalls + (result.memory?.requests ?? 0),
    );
    expect(second.correctness).toMatchObject({
      unexpectedDeletes: 0,
      remainingExpected: second.correctness.keptAtDeparture,
      ok: true,
    });
    // Everything else listed was answered from memory.
    const keptAfterFirst = 1500 - result.correctness.deleted;
    expect(second.recalled).toBe(keptAfterFirst - second.schedulesLookedUp);
  });

  it('stops the naive loop at its time limit, extrapolates, and still deletes only finished schedules', async () => {
    // Prepare: latency makes the one-at-a-time loop slow enough to hit the limit.
    const options = parseBenchArguments([
      '--schedules',
      '1000',
      '--naive',
      '--latency-ms',
      '5',
      '--max-seconds',
      '1',
    ]);

    // Act
    const result = await runBench(options);

    // Assess
    expect(result.mode).toBe(BenchMode.naive);
    expect(result.extrapolated).toBe(true);
    expect(result.seconds).toBeGreaterThan(result.measuredSeconds ?? Number.POSITIVE_INFINITY);
    expect(result.correctness.unexpectedDeletes).toBe(0);
    expect(result.correctness.deleted).toBeLessThan(result.correctness.expectedDeletes);
    expect(result.correctness.ok).toBe(true);
  });
});

describe('the correctness verdict', () => {
  const verification = {
    expectedDeletes: 100,
    deleted: 97,
    unexpectedDeletes: 0,
    unexpectedSample: [],
    remainingExpected: 3,
    keptAtDeparture: 3,
  };

  it('is safe, not exact, when the finished schedules left are exactly those the sweep named and counted as kept at departure', () => {
    expect(judge(verification, true, 3)).toMatchObject({
      ok: true,
      keptAtDeparture: 3,
      remainingExpected: 3,
    });
    expect(exactness(judge(verification, true, 3), 0)).toMatch(/^safe, not exact: deleted 97 of the 100/);
  });

  it.each([
    ['the summary counts fewer kept than the log names', { ...verification }, 2],
    ['the summary counts more kept than the log names', { ...verification }, 4],
    ['more finished schedules are left than were kept', { ...verification, remainingExpected: 4 }, 3],
    [
      'a kept name is not a finished schedule still present (-1 from the emulator)',
      { ...verification, keptAtDeparture: -1 },
      3,
    ],
    ['something else was deleted', { ...verification, unexpectedDeletes: 1 }, 3],
  ])('is wrong when %s', (_label, input, staleAtDeparture) => {
    expect(judge(input, true, staleAtDeparture).ok).toBe(false);
  });
});

describe('what bounded a rate', () => {
  const idle = { sweeperCpuShare: 0.3, emulatorCpuShare: 0.2, loadAverage: 1, cpus: 2, naive: false };

  it.each([
    [
      'its own budget, reached',
      { shareOfCeiling: 0.85, ceilingSetBy: 'own budget' as const },
      idle,
      'own budget',
    ],
    [
      'the feeding operation, reached',
      { shareOfCeiling: 0.9, ceilingSetBy: 'GetSchedule' as const },
      idle,
      'GetSchedule',
    ],
    [
      'its own budget at 2% of it: not the bound',
      { shareOfCeiling: 0.02, ceilingSetBy: 'own budget' as const },
      idle,
      'unclear',
    ],
    [
      'a busy sweeper thread',
      { shareOfCeiling: 0.3, ceilingSetBy: 'own budget' as const },
      { ...idle, sweeperCpuShare: 0.95 },
      'sweeper CPU',
    ],
    [
      'a busy emulator',
      { shareOfCeiling: 0.3, ceilingSetBy: 'own budget' as const },
      { ...idle, emulatorCpuShare: 0.9 },
      'emulator CPU',
    ],
    [
      'a host loaded beyond its cores',
      { shareOfCeiling: 0.3, ceilingSetBy: 'own budget' as const },
      { ...idle, loadAverage: 13 },
      'busy host',
    ],
    [
      'the naive loop',
      { shareOfCeiling: 0.1, ceilingSetBy: 'own budget' as const },
      { ...idle, naive: true },
      'one request at a time',
    ],
  ])('names %s', (_label, operation, load, bound) => {
    expect(boundOf(operation, load)).toBe(bound);
  });
});

describe('bench arguments', () => {
  it('names the flag and the expected form for a bad value', () => {
    expect(() => parseBenchArguments(['--get-tps', 'fast'])).toThrow(
      "Invalid --get-tps: expected a number from 1 to 100000, got 'fast'",
    );
    expect(() => parseBenchArguments(['--schedules', '1.5'])).toThrow(/--schedules: expected a whole number/);
    expect(() => parseBenchArguments(['--latency'])).toThrow(
      /^Unknown argument '--latency'; expected one of --schedules/,
    );
    expect(() => parseBenchArguments(['--max-seconds', '5'])).toThrow(
      /--max-seconds: expected to be used together with --naive/,
    );
    expect(() => parseBenchArguments(['--request-path', 'fast'])).toThrow(
      "Invalid --request-path: expected lean or sdk, got 'fast'",
    );
    expect(parseBenchArguments(['--request-path', 'sdk']).requestPath).toBe('sdk');
    expect(() => parseBenchArguments(['--tombstones', 'none'])).toThrow(
      "Invalid --tombstones: expected dynamodb or memory, got 'none'",
    );
    expect(parseBenchArguments([]).tombstones).toBe('dynamodb');
    expect(parseBenchArguments(['--tombstones', 'memory']).tombstones).toBe('memory');
  });

  it('derives enough concurrency for the budget at the latency (Little’s law)', () => {
    const concurrency = defaultConcurrency({ getTps: 1000, latencyMs: 20 });
    // Each item is in flight for at least a lookup and a delete round trip.
    expect(concurrency).toBeGreaterThanOrEqual((1000 * 2 * 20) / 1000);
    expect(defaultConcurrency({ getTps: 1000, latencyMs: 200 })).toBe(200);
  });
});

describe('the documented profiling command', () => {
  it('writes its profiles into .bench/ (git-ignored), never into the working tree', () => {
    const pages = [
      'README.md',
      'scripts/bench/README.md',
      ...readdirSync('docs').map((name) => `docs/${name}`),
    ];
    const commands = pages.flatMap((page) =>
      [...readFileSync(page, 'utf8').matchAll(/node --cpu-prof[^\n`]*/g)].map(
        (match) => `${page}: ${match[0]}`,
      ),
    );
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(command).toMatch(/--cpu-prof-dir=\.bench\//);
    expect(readFileSync('.gitignore', 'utf8').split('\n')).toContain('.bench/');
  });
});
