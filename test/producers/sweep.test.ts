// The sweep's producer tallies: finished schedules per target, group and pair, stuck ones apart,
// merged across invocations, summarized as a top N, and refused when a carried value is malformed.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import {
  createSweepProducers,
  mergeSweepProducers,
  readSweepProducers,
  recordFinished,
  serializeSweepProducers,
  summarizeSweepProducers,
} from '../../src/producers/sweep.ts';

const ORDERS = 'arn:aws:lambda:us-east-1:123456789012:function:orders';
const SEND = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage';

describe('sweep producers', () => {
  it('counts finished schedules per target, group and pair, and the stuck ones apart', () => {
    const producers = createSweepProducers();
    for (let index = 0; index < 5; index += 1)
      recordFinished(producers, { GroupName: 'orders', Target: { Arn: ORDERS } }, false);
    recordFinished(producers, { GroupName: 'default', Target: { Arn: SEND } }, true);
    recordFinished(producers, { GroupName: 'default', Target: { Arn: SEND } }, false);
    const summary = summarizeSweepProducers(producers);
    expect(summary.finished.total).toBe(7);
    expect(summary.finished.targets).toEqual([
      { targetArn: ORDERS, count: 5, uncertainty: 0 },
      { targetArn: SEND, count: 2, uncertainty: 0 },
    ]);
    expect(summary.finished.groups).toEqual([
      { group: 'orders', count: 5, uncertainty: 0 },
      { group: 'default', count: 2, uncertainty: 0 },
    ]);
    expect(summary.finished.pairs[0]).toEqual({
      group: 'orders',
      targetArn: ORDERS,
      count: 5,
      uncertainty: 0,
    });
    expect(summary.stuck).toEqual({
      total: 1,
      targets: [{ targetArn: SEND, count: 1, uncertainty: 0 }],
      otherTargets: 0,
    });
  });

  it('carries through JSON and merges two invocations into the whole', () => {
    const first = createSweepProducers();
    const second = createSweepProducers();
    recordFinished(first, { GroupName: 'orders', Target: { Arn: ORDERS } }, false);
    recordFinished(second, { GroupName: 'orders', Target: { Arn: ORDERS } }, true);
    const carried = readSweepProducers(
      JSON.parse(JSON.stringify(serializeSweepProducers(first))),
      'checkpoint.producers',
    );
    const merged = summarizeSweepProducers(mergeSweepProducers(carried, second));
    expect(merged.finished.targets).toEqual([{ targetArn: ORDERS, count: 2, uncertainty: 0 }]);
    expect(merged.stuck.total).toBe(1);
  });

  it('refuses a carried value with more stuck than finished schedules, naming the field', () => {
    const stuckOnly = createSweepProducers();
    recordFinished(stuckOnly, { GroupName: 'orders', Target: { Arn: ORDERS } }, true);
    const serialized = serializeSweepProducers(stuckOnly);
    const bad = {
      finished: serializeSweepProducers(createSweepProducers()).finished,
      stuck: serialized.stuck,
    };
    expect(() => readSweepProducers(bad, 'p')).toThrow(InputError);
    expect(() => readSweepProducers(bad, 'p')).toThrow(/Invalid p\.stuck\.targets\.total/);
    expect(() => readSweepProducers({ ...serialized, extra: 1 }, 'p')).toThrow(/Invalid p\.extra/);
    expect(() => readSweepProducers('x', 'p')).toThrow(/Invalid p:/);
  });
});
