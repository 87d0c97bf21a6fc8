// The alarms on a fresh deploy: nothing may page in the first day of a healthy stack, yet a silent
// sweeper or census still must. Checked two ways on the packaged template: the settings that make it
// so (a condition that treats missing data as breaching never has actions; what pages is a composite
// of that condition and a gate only real heartbeats can open), and a simulation of two days of
// CloudWatch evaluation, minute by minute, for a healthy stack and for each way of falling silent.
//
// The simulation follows CloudWatch's documented rules (user guide, "Configuring how CloudWatch
// alarms treat missing data"), simplified: each evaluation looks at the last EvaluationPeriods
// complete periods, aligned to the period; a period with no point is missing and
// counts as the alarm's TreatMissingData says (breaching, notBreaching, or left out for ignore and
// missing); ALARM when at least DatapointsToAlarm points breach; with ignore, a state changes only
// on enough present points. A new alarm starts in INSUFFICIENT_DATA. A composite alarm is in ALARM
// when every ALARM("name") of its AND rule is.
import { describe, expect, it } from 'vitest';
import { emptyTallies, talliesView } from '../../src/sweep/ledger.ts';
import { buildSweepDatums, scopeOf } from '../../src/sweep/metrics.ts';
import { emptyCounts, type SweepSummary } from '../../src/sweep/sweep.ts';
import { loadTemplate, resourcesOfType } from '../support/template.ts';

type State = 'INSUFFICIENT_DATA' | 'OK' | 'ALARM';
interface Point {
  metric: string;
  at: number;
  value: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface MetricAlarm {
  name: string;
  metric: string;
  statistic: string;
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: string;
  treatMissingData: string;
  actions: boolean;
}

function metricAlarms(): MetricAlarm[] {
  return resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Alarm').map(([, alarm]) => {
    const p = alarm.Properties ?? {};
    return {
      name: String(p.AlarmName),
      metric: `${String(p.Namespace)}/${String(p.MetricName)}`,
      statistic: String(p.Statistic),
      period: Number(p.Period) * 1000,
      evaluationPeriods: Number(p.EvaluationPeriods),
      datapointsToAlarm: Number(p.DatapointsToAlarm ?? p.EvaluationPeriods),
      threshold: Number(p.Threshold),
      comparison: String(p.ComparisonOperator),
      treatMissingData: String(p.TreatMissingData ?? 'missing'),
      actions: p.ActionsEnabled !== false && Array.isArray(p.AlarmActions) && p.AlarmActions.length > 0,
    };
  });
}

function compositeAlarms(): { name: string; children: string[] }[] {
  return resourcesOfType(loadTemplate(), 'AWS::CloudWatch::CompositeAlarm').map(([, alarm]) => {
    const rule = String(alarm.Properties?.AlarmRule);
    const terms = rule.split(' AND ');
    const children = terms.map(
      (term) => /^ALARM\("([^"]+)"\)$/.exec(term.trim())?.[1] ?? `unparsed: ${term}`,
    );
    return { name: String(alarm.Properties?.AlarmName), children };
  });
}

function breaches(alarm: MetricAlarm, value: number): boolean {
  switch (alarm.comparison) {
    case 'LessThanThreshold':
      return value < alarm.threshold;
    case 'GreaterThanThreshold':
      return value > alarm.threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.threshold;
    default:
      throw new Error(`no simulation for ${alarm.comparison}`);
  }
}

function statistic(alarm: MetricAlarm, values: number[]): number {
  if (alarm.statistic === 'SampleCount') return values.length;
  if (alarm.statistic === 'Sum') return values.reduce((a, b) => a + b, 0);
  if (alarm.statistic === 'Maximum') return Math.max(...values);
  throw new Error(`no simulation for ${alarm.statistic}`);
}

function evaluate(alarm: MetricAlarm, points: Point[], now: number, current: State): State {
  // The last complete period: a period still under way is not evaluated yet.
  const periodStart = Math.floor(now / alarm.period) * alarm.period - alarm.period;
  let breaching = 0;
  let present = 0;
  let good = 0;
  for (let index = 0; index < alarm.evaluationPeriods; index += 1) {
    const start = periodStart - index * alarm.period;
    const values = points
      .filter(
        (point) => point.metric === alarm.metric && point.at >= start && point.at < start + alarm.period,
      )
      .filter((point) => point.at <= now)
      .map((point) => point.value);
    if (values.length === 0) {
      if (alarm.treatMissingData === 'breaching') breaching += 1;
      else if (alarm.treatMissingData === 'notBreaching') good += 1;
      continue;
    }
    present += 1;
    if (breaches(alarm, statistic(alarm, values))) breaching += 1;
    else good += 1;
  }
  if (breaching >= alarm.datapointsToAlarm) return 'ALARM';
  if (alarm.treatMissingData === 'ignore' || alarm.treatMissingData === 'missing') {
    if (present === 0) return alarm.treatMissingData === 'ignore' ? current : 'INSUFFICIENT_DATA';
    // Only enough good points can rule out ALARM.
    return good > alarm.evaluationPeriods - alarm.datapointsToAlarm ? 'OK' : current;
  }
  return 'OK';
}

interface Behaviour {
  /** Census heartbeats until then (ms after deploy); it runs every 15 minutes, first at +15 min. */
  censusUntil?: number;
  censusCompletes?: boolean;
  /** Sweep heartbeats until then; hourly, first at +60 min (a rate(1 hour) rule fires an hour in). */
  sweepUntil?: number;
  sweepCompletes?: boolean;
  /** Manual sweeps of the configured groups (every group), each complete, made every 6 hours. */
  manualSweeps?: readonly ManualSweep[];
}

/** The part of a manual sweep request that decides its scope. */
type ManualSweep = { dryRun?: boolean; groups?: readonly string[]; namePrefix?: string };

/** What the sweep code publishes for one complete manual sweep (src/sweep/metrics.ts). */
function manualSweepPoints(request: ManualSweep, at: number): Point[] {
  const summary: SweepSummary = {
    ...emptyCounts(),
    skippedTotal: 0,
    uncertain: { deleted: 0 },
    throttled: 0,
    requests: { ListSchedules: 1, GetSchedule: 1, DeleteSchedule: 0, rereads: 0 },
    durationSeconds: 1,
    dryRun: request.dryRun ?? false,
    complete: true,
    scheduleCounts: { byGroup: {} },
    progress: { groups: {}, fromStart: true },
    ...talliesView(emptyTallies()),
  };
  return buildSweepDatums(summary, new Date(at), scopeOf(request, [])).map((datum) => ({
    metric: `ScheduleHygiene/${datum.MetricName}`,
    at,
    value: datum.Value ?? 0,
  }));
}

const HORIZON = 48 * HOUR;

/** Points a stack deployed at `deployedAt` publishes over two days, for a behaviour. */
function points(deployedAt: number, behaviour: Behaviour): Point[] {
  const out: Point[] = [];
  const ns = 'ScheduleHygiene';
  for (let t = 15 * MINUTE; t < HORIZON; t += 15 * MINUTE) {
    if (t > (behaviour.censusUntil ?? HORIZON)) break;
    out.push({ metric: `${ns}/CensusInvocations`, at: deployedAt + t, value: 1 });
    if (behaviour.censusCompletes ?? true)
      out.push({ metric: `${ns}/QuotaUtilization`, at: deployedAt + t, value: 1 });
  }
  for (let t = HOUR; t < HORIZON; t += HOUR) {
    if (t > (behaviour.sweepUntil ?? HORIZON)) break;
    out.push({ metric: `${ns}/SweepInvocations`, at: deployedAt + t, value: 1 });
    // A whole sweep publishes SweepsCompleted once at its end: 1 when it covered everything.
    out.push({
      metric: `${ns}/SweepsCompleted`,
      at: deployedAt + t + 10 * MINUTE,
      value: behaviour.sweepCompletes === false ? 0 : 1,
    });
    out.push({ metric: `${ns}/DeleteFailures`, at: deployedAt + t + 10 * MINUTE, value: 0 });
  }
  for (let t = 2 * HOUR; t < HORIZON; t += 6 * HOUR) {
    for (const request of behaviour.manualSweeps ?? [])
      out.push(...manualSweepPoints(request, deployedAt + t));
  }
  return out;
}

/** For each alarm that notifies someone: the first time (ms after deploy) it was in ALARM, if ever. */
function simulate(
  behaviour: Behaviour,
  deployedAt = 10 * HOUR + 50 * MINUTE,
): Map<string, number | undefined> {
  const alarms = metricAlarms();
  const composites = compositeAlarms();
  const data = points(deployedAt, behaviour);
  const state = new Map<string, State>(alarms.map((alarm) => [alarm.name, 'INSUFFICIENT_DATA']));
  const firstAlarm = new Map<string, number | undefined>();
  for (const alarm of alarms) if (alarm.actions) firstAlarm.set(alarm.name, undefined);
  for (const composite of composites) firstAlarm.set(composite.name, undefined);
  for (let t = MINUTE; t < HORIZON; t += 5 * MINUTE) {
    for (const alarm of alarms) {
      state.set(
        alarm.name,
        evaluate(alarm, data, deployedAt + t, state.get(alarm.name) ?? 'INSUFFICIENT_DATA'),
      );
      if (alarm.actions && state.get(alarm.name) === 'ALARM' && firstAlarm.get(alarm.name) === undefined) {
        firstAlarm.set(alarm.name, t);
      }
    }
    for (const composite of composites) {
      const alarmed = composite.children.every((child) => state.get(child) === 'ALARM');
      if (alarmed && firstAlarm.get(composite.name) === undefined) firstAlarm.set(composite.name, t);
    }
  }
  return firstAlarm;
}

const name = (suffix: string) => `schedule-hygiene-dev-${suffix}`;
const hours = (ms: number | undefined) => (ms === undefined ? undefined : ms / HOUR);

describe('alarm settings', () => {
  it('gives no actions to any alarm that treats missing data as breaching', () => {
    const breaching = resourcesOfType(loadTemplate(), 'AWS::CloudWatch::Alarm').filter(
      ([, alarm]) => alarm.Properties?.TreatMissingData === 'breaching',
    );

    expect(breaching.map(([id]) => id).sort()).toEqual([
      'CensusNotCompletingCondition',
      'CensusStoppedCondition',
      'SweepNotCompletingCondition',
      'SweeperStoppedCondition',
    ]);
    for (const [, alarm] of breaching) {
      expect(alarm.Properties).toMatchObject({ ActionsEnabled: false });
      expect(alarm.Properties).not.toHaveProperty('AlarmActions');
      expect(alarm.Properties).not.toHaveProperty('OKActions');
    }
  });

  it('pages on silence only through a composite of the condition and a gate that missing data cannot open', () => {
    const byName = new Map(metricAlarms().map((alarm) => [alarm.name, alarm]));
    const composites = compositeAlarms();

    expect(composites.map((c) => c.name).sort()).toEqual(
      ['census-not-completing', 'census-stopped', 'sweep-not-completing', 'sweeper-stopped'].map(name),
    );
    for (const composite of composites) {
      const [condition, gate] = composite.children.map((child) => byName.get(child));
      expect(condition?.name).toBe(`${composite.name}-condition`);
      expect(condition?.treatMissingData).toBe('breaching');
      expect(gate).toMatchObject({
        treatMissingData: 'ignore',
        statistic: 'SampleCount',
        comparison: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        actions: false,
      });
      // The gate needs as many consecutive periods of heartbeats as it evaluates.
      expect(gate?.datapointsToAlarm).toBe(gate?.evaluationPeriods);
    }
  });

  it('lets every alarm with actions treat missing data as not breaching (or keep its state)', () => {
    for (const alarm of metricAlarms().filter((candidate) => candidate.actions)) {
      expect(['notBreaching', 'ignore'], alarm.name).toContain(alarm.treatMissingData);
    }
  });
});

describe('two days after a deploy, simulated', () => {
  it('pages nobody when both functions run as scheduled', () => {
    const first = simulate({});

    for (const [alarm, at] of first) expect(at, alarm).toBeUndefined();
  });

  it.each([
    // [behaviour, alarm that must page, at the latest (hours after deploy)]
    ['the sweeper stops after 10 h', { sweepUntil: 10 * HOUR }, 'sweeper-stopped', 10 + 4],
    ['the sweeper never runs', { sweepUntil: 0 }, 'sweeper-stopped', 8],
    ['the census stops after 10 h', { censusUntil: 10 * HOUR }, 'census-stopped', 10 + 2],
    ['the census never runs', { censusUntil: 0 }, 'census-stopped', 4],
    ['the census runs but never completes', { censusCompletes: false }, 'census-not-completing', 8],
    ['sweeps run but never complete', { sweepCompletes: false }, 'sweep-not-completing', 26],
    [
      'scheduled sweeps never complete while operators dry-run the account and sweep one group by hand',
      {
        sweepCompletes: false,
        manualSweeps: [{ dryRun: true }, { dryRun: true, groups: ['orders'] }, { groups: ['orders'] }],
      },
      'sweep-not-completing',
      26,
    ],
  ] as const)('pages when %s', (_, behaviour, alarm, latestHours) => {
    const first = simulate(behaviour);

    expect(hours(first.get(name(alarm)))).toBeDefined();
    expect(hours(first.get(name(alarm)))).toBeLessThanOrEqual(latestHours);
    // Nothing else that is healthy pages along with it.
    const others = [...first.entries()].filter(([other, at]) => other !== name(alarm) && at !== undefined);
    expect(
      others.map(([other]) => other).every((other) => !other.includes('quota') && !other.includes('delete')),
    ).toBe(true);
  });
});
