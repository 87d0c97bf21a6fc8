// What the bench measures of the tombstone store in its own process: how long each tombstone write
// took, from the sweep asking for it to DynamoDB's acknowledgement (the time a delete waits for its
// tombstone), kept as a histogram of whole milliseconds so memory stays flat at any scale.
import type { TombstoneWriter } from '../../src/sweep/tombstones.ts';

/** Tombstone write latency over a run, in milliseconds (the upper edge of a 1 ms bucket). */
export interface TombstoneWriteLatency {
  /** Writes acknowledged (a write that failed is not timed). */
  writes: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Writes that took longer than the sweep's re-read threshold (100 ms): each such delete reads its schedule again. */
  over100ms: number;
}

export interface TombstoneMeter {
  writer: TombstoneWriter;
  latency(): TombstoneWriteLatency;
}

/** Latencies above this land in the last bucket (a write that slow is retried by then anyway). */
const HISTOGRAM_MS = 60_000;

/** Wraps a writer so every acknowledged write() is timed; settle and flush pass through. */
export function meterTombstones(
  writer: TombstoneWriter,
  now: () => number = () => performance.now(),
): TombstoneMeter {
  const buckets = new Uint32Array(HISTOGRAM_MS + 1);
  let writes = 0;
  let max = 0;
  let over100ms = 0;
  const metered: TombstoneWriter = {
    async write(entry) {
      const started = now();
      const receipt = await writer.write(entry);
      const ms = now() - started;
      writes += 1;
      if (ms > max) max = ms;
      if (ms > 100) over100ms += 1;
      const bucket = Math.min(HISTOGRAM_MS, Math.ceil(ms));
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
      return receipt;
    },
    settle: (receipt, outcome) => writer.settle(receipt, outcome),
    flush: () => writer.flush(),
  };
  const percentile = (share: number): number => {
    if (writes === 0) return 0;
    const rank = Math.ceil(share * writes);
    let seen = 0;
    for (let ms = 0; ms <= HISTOGRAM_MS; ms++) {
      seen += buckets[ms] ?? 0;
      if (seen >= rank) return ms;
    }
    return HISTOGRAM_MS;
  };
  return {
    writer: metered,
    latency: () => ({
      writes,
      p50: percentile(0.5),
      p90: percentile(0.9),
      p99: percentile(0.99),
      max: Math.round(max * 10) / 10,
      over100ms,
    }),
  };
}
