// The benchmark's emulator, run in a process of its own so the sweeper's memory is measured alone.
// It synthesizes the population, enforces the caps and latency, and answers the bench over IPC:
// including the correctness check, done here against the full log of names deleted through the API.
import { decide } from '../../src/schedule/decide.ts';
import {
  FINISHED_KINDS,
  type SyntheticKindValue,
  synthesizePopulation,
} from '../emulator/scheduler-synthesize.ts';
import { startEmulator } from '../emulator/server.ts';
import type { ChildReply, ChildRequest, PopulationReport, Verification } from './protocol.ts';

const GROUP = 'default';
const PREFIX = 'syn-';
/** Kinds whose schedules are one-time and not yet finished when synthesized: the ones time can make due. */
const PENDING_KINDS: readonly string[] = ['futureAt', 'insideRetryWindow'];
const SAMPLE_LIMIT = 10;
/** Longer than any second sweep runs: schedules finishing within it are tracked with their time. */
const SOON_MS = 6 * 3_600_000;

const kindOf = (name: string): string => name.slice(PREFIX.length, name.lastIndexOf('-'));

async function main(): Promise<void> {
  const emulator = await startEmulator();
  const { plane, services } = emulator;
  const scheduler = services.scheduler;
  let pendingNames: string[] = [];
  let finishedKinds = new Set<string>();
  let expectedFirst = 0;
  /** Pending schedules that come due soon after the clock advance, with when each becomes finished. */
  let comingDue = new Map<string, number>();
  let advancedTo = 0;
  /** Finished schedules the first sweep kept at departure (its log's names), still present. */
  let carriedOver = new Set<string>();

  const dueBy = (at: number) =>
    new Set([...comingDue].filter(([, finishedAt]) => finishedAt <= at).map(([name]) => name));

  /**
   * Deleted names against the expected set: by name (`names`, of which `required` must all be gone)
   * or by the kind the name encodes.
   */
  const verify = (
    expected: {
      names?: Set<string>;
      required?: Set<string>;
      kinds: Set<string>;
      count: number;
    },
    keptNames: readonly string[],
  ): Verification => {
    const deletedNames = scheduler.deletedNames();
    const unexpected: string[] = [];
    let unexpectedDeletes = 0;
    for (const entry of deletedNames) {
      const name = entry.slice(entry.indexOf('/') + 1);
      const wanted = expected.names ? expected.names.has(name) : expected.kinds.has(kindOf(name));
      if (wanted) continue;
      unexpectedDeletes += 1;
      if (unexpected.length < SAMPLE_LIMIT) unexpected.push(entry);
    }
    let remainingExpected = 0;
    if (expected.names) {
      for (const name of expected.required ?? expected.names)
        if (scheduler.has(GROUP, name)) remainingExpected += 1;
    } else {
      for (const kind of expected.kinds)
        remainingExpected += scheduler.count({ namePrefix: `${PREFIX}${kind}-` });
    }
    // The sweep's own account of what it kept at departure, name by name: each must be an expected
    // schedule still present, or the count proves nothing.
    const isRequired = (name: string) =>
      expected.names ? (expected.required ?? expected.names).has(name) : expected.kinds.has(kindOf(name));
    const keptAtDeparture = new Set(keptNames).size;
    const keptAndRemaining = [...new Set(keptNames)].filter(
      (name) => isRequired(name) && scheduler.has(GROUP, name),
    ).length;
    return {
      expectedDeletes: expected.count,
      deleted: deletedNames.length,
      unexpectedDeletes,
      unexpectedSample: unexpected,
      remainingExpected,
      // A kept name that is not an expected schedule still present counts as none kept at all.
      keptAtDeparture: keptAndRemaining === keptAtDeparture ? keptAtDeparture : -1,
    };
  };

  const handle = (request: ChildRequest): unknown => {
    switch (request.command) {
      case 'configure':
        Object.assign(plane.controls, {
          rateLimits: request.rateLimits,
          latencyMs: request.latencyMs,
        });
        return { now: plane.now().toISOString() };
      case 'synthesize': {
        const started = performance.now();
        pendingNames = [];
        const report = synthesizePopulation(
          { count: request.count, seed: request.seed, mix: request.mix, graceMinutes: request.graceMinutes },
          {
            now: plane.now().getTime(),
            createGroup: (name) => scheduler.createGroup(name),
            seed: (definitions) => {
              for (const definition of definitions) {
                const name = definition.Name ?? '';
                if (PENDING_KINDS.includes(kindOf(name))) pendingNames.push(name);
              }
              return scheduler.seed(definitions, { allowUnknownZones: true }).created;
            },
          },
        );
        finishedKinds = new Set<SyntheticKindValue>(FINISHED_KINDS);
        expectedFirst = report.expectedDeletions;
        const population: PopulationReport = {
          report,
          seedSeconds: (performance.now() - started) / 1000,
          emulatorRssMiB: process.memoryUsage().rss / 2 ** 20,
        };
        return population;
      }
      case 'stats':
        return Object.fromEntries(plane.stats);
      case 'resetStats':
        plane.resetStats();
        return {};
      case 'now':
        return { now: plane.now().toISOString() };
      case 'cpu':
        // This process's CPU time so far (user + system, microseconds): the emulator's own work,
        // Scheduler and the DynamoDB it serves with dynalite, which the sweeper's figure leaves out.
        return process.cpuUsage();
      case 'verifyFirst': {
        const verification = verify({ kinds: finishedKinds, count: expectedFirst }, request.keptAtDeparture);
        // Finished schedules the first sweep kept at departure: the second sweep must delete them.
        carriedOver = new Set(request.keptAtDeparture.filter((name) => scheduler.has(GROUP, name)));
        return verification;
      }
      case 'advanceClock': {
        // Which schedules a correct sweeper must newly find finished: pending before the advance,
        // finished after it, by the project's own decision rule (the first sweep's expectation is the
        // synthesizer's own). Those finishing while the second sweep runs may go either way.
        const before = plane.now();
        advancedTo = before.getTime() + request.ms;
        const options = { graceMs: request.graceMinutes * 60_000, keepDisabled: false };
        comingDue = new Map();
        for (const name of pendingNames) {
          const view = scheduler.get(GROUP, name);
          if (!view) continue;
          const decision = decide(view, before, options);
          if (decision.outcome !== 'pending') continue;
          const finishedAt = decision.finishedAt.getTime();
          if (finishedAt <= advancedTo + SOON_MS) comingDue.set(name, finishedAt);
        }
        plane.setNow(new Date(advancedTo));
        scheduler.clearDeletedNames();
        return {
          now: new Date(advancedTo).toISOString(),
          becameDue: dueBy(advancedTo).size,
          carriedOver: carriedOver.size,
        };
      }
      case 'verifySecond': {
        const required = new Set([...dueBy(advancedTo), ...carriedOver]);
        const allowed = new Set([...dueBy(plane.now().getTime()), ...carriedOver]);
        return {
          ...verify(
            { names: allowed, required, kinds: new Set(), count: required.size },
            request.keptAtDeparture,
          ),
          becameDueDuringSweep: allowed.size - required.size,
        };
      }
    }
  };

  process.on('message', (message: ChildRequest) => {
    let reply: ChildReply;
    try {
      reply = { id: message.id, ok: true, result: handle(message) };
    } catch (error) {
      reply = { id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    process.send?.(reply);
  });
  process.on('disconnect', () => {
    emulator.close().finally(() => process.exit(0));
  });
  process.send?.({ ready: true, url: emulator.url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
