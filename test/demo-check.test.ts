// The demo's verdict on its sweeps (checkDeletions), alone: what makes `npm run demo` exit 0 is the
// bench's rule, name by name: nothing deleted but finished schedules, none twice, and every finished
// one deleted or, still present, named by the sweep as kept at departure (a busy machine causes
// that, and it is safe).
import { describe, expect, it } from 'vitest';
import { checkDeletions } from '../scripts/demo.ts';

const finished = ['orders/syn-finishedNone-1', 'billing/syn-dstGap-2', 'default/syn-disabledPast-3'];

/** `present`: the finished schedules still in the emulator (the rest were deleted). */
function check(deleted: string[], kept: string[], present: string[] = []) {
  return checkDeletions({
    deleted,
    keptAtDeparture: kept,
    expected: finished.length,
    remainingFinished: present.length,
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
    expect(check(swapped, [], [finished[2]!])).toMatchObject({ ok: false, unexpected: 1 });
    expect(check(swapped, [], [finished[2]!]).message).toMatch(
      /^MISMATCH: deleted 3 \(1 of them not finished/,
    );
    // A finished kind only when the whole name is a synthetic one.
    const lookalike = [...finished.slice(0, 2), 'orders/my-syn-finishedNone-1'];
    expect(check(lookalike, [], [finished[2]!])).toMatchObject({ ok: false, unexpected: 1 });
  });

  it('fails a finished schedule left unnamed, whatever else makes up the count', () => {
    const [first, second, third] = finished as [string, string, string];
    // Left and named by nobody.
    expect(check([first, second], [], [third]).ok).toBe(false);
    // Named as kept, yet no longer there.
    expect(check([first, second], [third], []).ok).toBe(false);
    // A kept name that is not a finished kind.
    expect(check([first, second], ['orders/syn-rate-9'], [third]).ok).toBe(false);
    // One deletion counted twice.
    expect(check([first, first, second], [], [third]).ok).toBe(false);
    // Another present finished-kind name in place of the one left.
    const stranger = 'other/syn-finishedNone-77';
    expect(
      checkDeletions({
        deleted: [first, second],
        keptAtDeparture: [stranger],
        expected: 3,
        remainingFinished: 2,
        isPresent: (entry) => entry === stranger || entry === third,
      }).ok,
    ).toBe(false);
  });
});
