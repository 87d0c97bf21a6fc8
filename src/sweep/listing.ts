// One listing read ahead of the sweep that works through it. ListSchedules is a NextToken chain: a
// listing can have only one request in flight, and the next one needs the page before it. So the
// next page is requested the moment the page before it arrives, not when the sweep gets round to it,
// and at most `depth` pages wait listed (or are being listed) ahead of the sweep: memory stays bounded.
import type { ListSchedulesOutput } from '@aws-sdk/client-scheduler';

/**
 * Pages listed, or being listed, ahead of the page the sweep works on. At 50 pages a second a page is
 * requested every 20 ms, while the memory read of a page (one BatchGetItem) takes a round trip of its
 * own and the sweep may pause for items in flight: four pages keep the listing going through both.
 */
export const LIST_LOOKAHEAD_PAGES = 4;

export interface ReadAheadOptions<T> {
  /** Sends one ListSchedules (through its budget) for this NextToken; undefined: the first page. */
  list: (nextToken: string | undefined) => Promise<ListSchedulesOutput>;
  /** Where the listing begins (undefined: its first page). */
  nextToken: string | undefined;
  /** Most pages listed or in flight and not yet taken by `next()`: at least 1. */
  depth: number;
  /**
   * Asked before each request sent ahead of need: false holds the listing (the sweep is stopping)
   * until `next()` asks for a page itself.
   */
  proceed: () => boolean;
  /** Runs on each page as it arrives, e.g. to start its memory read; the result comes with the page. */
  onListed: (page: ListSchedulesOutput) => T;
}

export interface ListedPage<T> {
  page: ListSchedulesOutput;
  /** What `onListed` returned for this page. */
  extra: T;
}

type Settled<T> = { ok: true; value: ListedPage<T> } | { ok: false; error: unknown };

/**
 * Pages of one listing in order, each requested as soon as the one before it arrived while fewer than
 * `depth` are held. A failed request is handed out in its place by `next()` (rejecting), and nothing
 * is requested after it. `close()` drops what is held and sends nothing more; a request already in
 * flight is left to finish, and its page is dropped.
 */
export class ReadAheadListing<T> {
  private readonly queue: Settled<T>[] = [];
  private inFlight = false;
  private token: string | undefined;
  /** The last page arrived, or a request failed: nothing more is sent. */
  private ended = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private mostHeld = 0;

  constructor(private readonly options: ReadAheadOptions<T>) {
    if (!Number.isInteger(options.depth) || options.depth < 1)
      throw new RangeError(`Expected depth to be a whole number of pages, at least 1, got ${options.depth}`);
    this.token = options.nextToken;
    this.pump(false);
  }

  /** Pages listed or in flight and not yet taken. */
  get held(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  /** The most pages held at any one time so far (never more than `depth`). */
  get maxHeld(): number {
    return this.mostHeld;
  }

  /**
   * The next page, in listing order; rejects with the error of its request. Must not be called
   * again after a page without NextToken, after a rejection, or after `close()`.
   */
  async next(): Promise<ListedPage<T>> {
    for (;;) {
      const head = this.queue.shift();
      if (head) {
        this.pump(false);
        if (head.ok) return head.value;
        throw head.error;
      }
      if (this.closed || (this.ended && !this.inFlight)) throw new Error('The listing has no page left');
      this.pump(true);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Sends nothing more and drops the pages held. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.settle();
  }

  private settle(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Sends the next request if one may go: `asked` when `next()` waits for it. */
  private pump(asked: boolean): void {
    if (this.closed || this.ended || this.inFlight) return;
    if (this.held >= this.options.depth) return;
    if (!asked && !this.options.proceed()) return;
    this.inFlight = true;
    this.mostHeld = Math.max(this.mostHeld, this.held);
    this.options.list(this.token).then(
      (page) => {
        this.inFlight = false;
        if (this.closed) return;
        const nextToken = page.NextToken || undefined;
        if (nextToken === undefined) this.ended = true;
        else this.token = nextToken;
        try {
          this.queue.push({ ok: true, value: { page, extra: this.options.onListed(page) } });
        } catch (error) {
          this.ended = true;
          this.queue.push({ ok: false, error });
        }
        this.settle();
        this.pump(false);
      },
      (error: unknown) => {
        this.inFlight = false;
        if (this.closed) return;
        this.ended = true;
        this.queue.push({ ok: false, error });
        this.settle();
      },
    );
  }
}
