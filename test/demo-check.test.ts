// The demo's verdict on its sweeps (checkDeletions), alone: what makes `npm run demo` exit 0 is the
// bench's rule, nothing deleted but finished schedules and every finished one deleted or named by the
// sweep as kept at departure, which a busy machine causes and which is safe.
import { describe, expect, it } from 'vitest';
import { checkDeletions } from '../scripts/demo.ts';

const finished = ['orders/syn-finishedNone-1', 'billing/syn-dstGap-2', 'default/syn-disabledPast-3'];

function check(deleted: string[], kept: string[], present: string[] = []) {
  return checkDeletions({
    deleted,
    keptAtDeparture: kept,
    expected: finished.length,
    isPresent: (entry) => present.includes(entry),
  });
}

describe('the demo checks its sweeps', () => {
  it('passes exactly the finished schedules deleted, and says so', () => {
    expect(check(finished, [])).toMatchObject({ ok: true, deleted: 3, unexpected: 0, keptAtDeparture: 0 });
    expect(check(finished, []).message).toBe(
      'Deleted exactly the 3 finished schedules; kept everything else.',
    );
  });

  it('passes finished schedules kept at departure, named by the sweep and still present, and says so', () => {
    const result = check(finished.slice(0, 2), [finished[2]!, finished[2]!], [finished[2]!]);
    expect(result).toMatchObject({ ok: true, deleted: 2, keptAtDeparture: 1 });
    expect(result.message).toMatch(
      /^Deleted 2 of the 3 finished schedules and nothing else; the other 1 was kept at departure/,
    );
  });

  it('fails a deletion of anything not finished, even when the count matches', () => {
    const swapped = [...finished.slice(0, 2), 'orders/syn-futureAt-4'];
    expect(check(swapped, [])).toMatchObject({ ok: false, unexpected: 1 });
    expect(check(swapped, []).message).toMatch(/^MISMATCH: deleted 3 \(1 of them not finished\)/);
  });

  it('fails a finished schedule left unnamed, or named as kept yet not there', () => {
    expect(check(finished.slice(0, 2), []).ok).toBe(false);
    expect(check(finished.slice(0, 2), [finished[2]!], []).ok).toBe(false);
    expect(check(finished.slice(0, 2), ['orders/syn-rate-9'], ['orders/syn-rate-9']).ok).toBe(false);
  });
});
