// The resume point: each listed page is remembered until every item on it is settled, so a stop
// knows where a later run resumes (the first page with an item not settled, or the next page to
// list) and which ARNs on the pages from there on it already counted (the cursor's `skip`).
import type { SweepCursor } from './model.ts';

/** One listed page, remembered until all its items are done. */
export interface PageRecord {
  cursor: SweepCursor;
  /** Items enqueued and not settled yet. */
  remaining: number;
  /** Items left for a later run: not processed (maxDeletes) or abandoned (the hard stop). */
  unprocessed: number;
  /** ARNs counted on this page, passed over when a later run lists it again. */
  done: string[];
  /** ARNs on this page that an earlier run had counted, passed over here too. */
  passed: string[];
  /** The page after it (the next group's first, after a group's last page). */
  next: SweepCursor;
}

/** Drops the fully settled pages at the head: nothing on them is needed to resume. */
export function dropSettledPages(pages: PageRecord[]): void {
  while (pages.length > 0 && pages[0]?.remaining === 0 && pages[0]?.unprocessed === 0) pages.shift();
}

function withSkip(cursor: SweepCursor, done: string[]): SweepCursor {
  const { skip: _previous, ...bare } = cursor;
  return done.length > 0 ? { ...bare, skip: done } : bare;
}

/**
 * Where a checkpoint resumes: the first page with an unsettled or unprocessed item, with the ARNs
 * already counted on the pages from there on; when every recorded page is settled, the page after
 * the last one. ARNs an earlier run counted on pages not reached yet (`unlisted`) stay in `skip`.
 */
export function settledCursor(
  pages: PageRecord[],
  listCursor: SweepCursor,
  unlisted: Set<string>,
): SweepCursor {
  const first = pages.findIndex((page) => page.remaining > 0 || page.unprocessed > 0);
  if (first >= 0) {
    const done = pages.slice(first).flatMap((page) => [...page.done, ...page.passed]);
    return withSkip(pages[first]!.cursor, [...done, ...unlisted]);
  }
  const last = pages.at(-1);
  return withSkip(last ? last.next : listCursor, [...unlisted]);
}

/**
 * Where a later run resumes once everything in flight settled: the first page with items left over
 * (or the next page to list), with the ARNs already counted on the pages from there on, including
 * those an earlier run passed on.
 */
export function resumeCursor(
  pages: PageRecord[],
  listCursor: SweepCursor,
  unlisted: Set<string>,
): SweepCursor {
  const first = pages.findIndex((page) => page.unprocessed > 0);
  if (first < 0) return listCursor;
  const done = [...pages.slice(first).flatMap((page) => [...page.done, ...page.passed]), ...unlisted];
  return withSkip(pages[first]!.cursor, done);
}

/** The schedule group in a schedule ARN (arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME). */
export function groupOfArn(arn: string): string | undefined {
  return arn.split(':').slice(5).join(':').split('/')[1];
}
