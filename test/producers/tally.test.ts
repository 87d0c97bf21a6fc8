// The producer tally: Space-Saving's guarantees checked against exact counts over random streams,
// its merge, the top N with "Other", clipping of long target ARNs, and the bounded, checked
// serialization a continuation carries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import {
  addTo,
  countSchedule,
  createProducerTally,
  createSpaceSaving,
  MAX_KEY_LENGTH,
  MAX_SERIALIZED_BYTES,
  maximumError,
  mergeProducerTallies,
  mergeSpaceSaving,
  producerKey,
  readProducerTally,
  type SpaceSaving,
  serializeProducerTally,
  splitPair,
  TALLY_CAPACITY,
  topOf,
} from '../../src/producers/tally.ts';

function exactCounts(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

function summarize(keys: readonly string[], capacity: number): SpaceSaving {
  const summary = createSpaceSaving(capacity);
  for (const key of keys) addTo(summary, key);
  return summary;
}

/** Every Space-Saving guarantee, checked against the exact counts. */
function expectGuarantees(summary: SpaceSaving, truth: Map<string, number>): void {
  const bound = summary.total / summary.capacity;
  const floor = topOf(summary, 0).notShownAtMost;
  expect(floor).toBeLessThanOrEqual(bound);
  for (const [key, counter] of summary.counters) {
    const actual = truth.get(key) ?? 0;
    expect(counter.count - counter.error).toBeLessThanOrEqual(actual);
    expect(counter.count).toBeGreaterThanOrEqual(actual);
    expect(counter.error).toBeLessThanOrEqual(bound);
  }
  for (const [key, actual] of truth) {
    if (!summary.counters.has(key)) expect(actual).toBeLessThanOrEqual(floor);
    if (actual > bound) expect(summary.counters.has(key)).toBe(true);
  }
  expect(maximumError(summary)).toBeLessThanOrEqual(bound);
}

// Skewed streams: a few heavy keys among many light ones, as producers are.
const keyStream = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 4 }).map((n) => `heavy-${n}`) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 300 }).map((n) => `light-${n}`) },
  ),
  { maxLength: 2000 },
);

describe('Space-Saving summary', () => {
  it('keeps every guarantee over random skewed streams (count bounds, error ≤ total / capacity)', () => {
    fc.assert(
      fc.property(keyStream, fc.integer({ min: 1, max: 20 }), (keys, capacity) => {
        expectGuarantees(summarize(keys, capacity), exactCounts(keys));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the guarantees over the union when two summaries are merged', () => {
    fc.assert(
      fc.property(keyStream, keyStream, fc.integer({ min: 1, max: 20 }), (first, second, capacity) => {
        const merged = mergeSpaceSaving(summarize(first, capacity), summarize(second, capacity));
        expect(merged.total).toBe(first.length + second.length);
        expect(merged.counters.size).toBeLessThanOrEqual(capacity);
        expectGuarantees(merged, exactCounts([...first, ...second]));
      }),
      { numRuns: 200 },
    );
  });

  it('is exact when no more distinct keys than its capacity were counted', () => {
    const keys = ['a', 'b', 'b', 'c', 'c', 'c'];
    const top = topOf(summarize(keys, 3), 3);
    expect(top.entries).toEqual([
      { key: 'c', count: 3, uncertainty: 0 },
      { key: 'b', count: 2, uncertainty: 0 },
      { key: 'a', count: 1, uncertainty: 0 },
    ]);
    expect(top.other).toBe(0);
  });

  it('shows a top N whose counts and Other add up to the total, guaranteed counts only', () => {
    fc.assert(
      fc.property(keyStream, fc.integer({ min: 0, max: 12 }), (keys, n) => {
        const summary = summarize(keys, 10);
        const top = topOf(summary, n);
        expect(top.entries.length).toBeLessThanOrEqual(n);
        expect(top.entries.reduce((sum, entry) => sum + entry.count, 0) + top.other).toBe(keys.length);
        expect(top.other).toBeGreaterThanOrEqual(0);
        const truth = exactCounts(keys);
        for (const entry of top.entries) expect(entry.count).toBeLessThanOrEqual(truth.get(entry.key) ?? 0);
      }),
      { numRuns: 200 },
    );
  });

  it('names a heavy producer exactly when it was counted before the summary filled', () => {
    // 3 heavy keys first, then 100 distinct light keys through a 10-counter summary.
    const keys = [
      ...Array.from({ length: 500 }, () => 'heavy-a'),
      ...Array.from({ length: 300 }, () => 'heavy-b'),
      ...Array.from({ length: 200 }, () => 'heavy-c'),
      ...Array.from({ length: 100 }, (_, index) => `light-${index}`),
    ];
    const top = topOf(summarize(keys, 10), 3);
    expect(top.entries).toEqual([
      { key: 'heavy-a', count: 500, uncertainty: 0 },
      { key: 'heavy-b', count: 300, uncertainty: 0 },
      { key: 'heavy-c', count: 200, uncertainty: 0 },
    ]);
    expect(top.other).toBe(100);
  });

  it('refuses to merge summaries of different capacities', () => {
    expect(() => mergeSpaceSaving(createSpaceSaving(5), createSpaceSaving(6))).toThrow(/capacity 5 and 6/);
  });
});

describe('producer keys', () => {
  it('keeps target ARNs up to the key length as they are, templated and universal ones too', () => {
    for (const arn of [
      'arn:aws:lambda:us-east-1:123456789012:function:orders',
      'arn:aws:scheduler:::aws-sdk:sqs:sendMessage',
    ]) {
      expect(producerKey(arn)).toBe(arn);
    }
    expect(producerKey(undefined)).toBe('(none)');
  });

  it('clips a long ARN with a hash of the whole, so ARNs sharing a long prefix stay apart', () => {
    const prefix = `arn:aws:states:us-east-1:123456789012:stateMachine:${'x'.repeat(100)}`;
    const first = producerKey(`${prefix}-first`);
    const second = producerKey(`${prefix}-second`);
    expect(first.length).toBe(MAX_KEY_LENGTH);
    expect(first).toMatch(/^arn:aws:states:.{60,}\.\.\.#[0-9a-f]{8}$/);
    expect(first).not.toBe(second);
    expect(producerKey(`${prefix}-first`)).toBe(first);
  });

  it('writes a target with a space, control or non-ASCII character as printable ASCII with a hash', () => {
    const key = producerKey('arn:aws:lambda:us-east-1:123456789012:function:caf\u00e9\n');
    expect(key).toMatch(/^arn:aws:lambda:us-east-1:123456789012:function:caf\?\?\.\.\.#[0-9a-f]{8}$/);
  });
});

describe('producer tally', () => {
  it('counts schedules per target, per group and per group × target', () => {
    const tally = createProducerTally();
    const lambda = 'arn:aws:lambda:us-east-1:123456789012:function:orders';
    const sqs = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage';
    countSchedule(tally, { GroupName: 'orders', Target: { Arn: lambda } });
    countSchedule(tally, { GroupName: 'orders', Target: { Arn: lambda } });
    countSchedule(tally, { GroupName: 'default', Target: { Arn: lambda } });
    countSchedule(tally, { GroupName: 'default', Target: { Arn: sqs } });
    expect(topOf(tally.targets, 5).entries.map(({ key, count }) => [key, count])).toEqual([
      [lambda, 3],
      [sqs, 1],
    ]);
    expect(topOf(tally.groups, 5).entries.map(({ key, count }) => [key, count])).toEqual([
      ['default', 2],
      ['orders', 2],
    ]);
    const pairs = topOf(tally.pairs, 5).entries.map(({ key, count }) => [splitPair(key), count]);
    expect(pairs[0]).toEqual([{ group: 'orders', target: lambda }, 2]);
    expect(pairs).toHaveLength(3);
  });

  it('serializes within its bound at the worst case and reads back to the same tally', () => {
    // Every counter full, every key at its longest.
    const tally = createProducerTally();
    for (let index = 0; index < TALLY_CAPACITY * 3; index += 1) {
      const group = `${String(index).padStart(4, '0')}${'g'.repeat(60)}`;
      countSchedule(tally, {
        GroupName: group,
        Target: { Arn: `arn:aws:states:us-east-1:123456789012:stateMachine:${index}${'s'.repeat(200)}` },
      });
    }
    const json = JSON.stringify(serializeProducerTally(tally));
    expect(json.length).toBeLessThanOrEqual(MAX_SERIALIZED_BYTES);
    const read = readProducerTally(JSON.parse(json), 'continuation.producers');
    expect(serializeProducerTally(read)).toEqual(serializeProducerTally(tally));
  });

  it('merges two tallies, as two invocations of one run would combine them', () => {
    const first = createProducerTally();
    const second = createProducerTally();
    for (let index = 0; index < 30; index += 1)
      countSchedule(first, { GroupName: 'a', Target: { Arn: 't1' } });
    for (let index = 0; index < 20; index += 1)
      countSchedule(second, { GroupName: 'a', Target: { Arn: 't1' } });
    countSchedule(second, { GroupName: 'b', Target: { Arn: 't2' } });
    const merged = mergeProducerTallies(first, second);
    expect(topOf(merged.targets, 2).entries).toEqual([
      { key: 't1', count: 50, uncertainty: 0 },
      { key: 't2', count: 1, uncertainty: 0 },
    ]);
    expect(merged.pairs.total).toBe(51);
  });

  it('refuses a carried tally that breaks an invariant, naming the field', () => {
    const good = serializeProducerTally(createProducerTally());
    const cases: [unknown, string][] = [
      [null, 'p'],
      [{ ...good, extra: 1 }, 'p.extra'],
      [{ ...good, targets: { ...good.targets, capacity: 0 } }, 'p.targets.capacity'],
      [{ ...good, groups: { ...good.groups, total: -1 } }, 'p.groups.total'],
      [{ ...good, groups: { ...good.groups, counters: [['bad group', 1, 0]] } }, 'p.groups.counters[0][0]'],
      [{ ...good, groups: { ...good.groups, total: 1, counters: [['g', 1, 1]] } }, 'p.groups.counters[0]'],
      [{ ...good, targets: { ...good.targets, counters: [['t', 5, 0]] } }, 'p.targets.total'],
    ];
    for (const [value, field] of cases) {
      let thrown: unknown;
      try {
        readProducerTally(value, 'p');
      } catch (error) {
        thrown = error;
      }
      expect(thrown, field).toBeInstanceOf(InputError);
      expect((thrown as InputError).field).toBe(field);
    }
  });
});
