// The read-ahead listing on its own, with a listing whose answers the test releases one by one, so
// every bound is checked at each step rather than by timing. Through the emulator and the real SDK:
// test/sweep/sweep.integration.test.ts ("holds at most ... pages").
import type { ListSchedulesOutput } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { LIST_LOOKAHEAD_PAGES, ReadAheadListing } from '../../src/sweep/listing.ts';

/** A listing of `pages` pages whose requests wait until the test answers them. */
function heldListing(pages: number) {
  const requests: { token: string | undefined; answer: () => void; fail: (error: Error) => void }[] = [];
  const list = (token: string | undefined) =>
    new Promise<ListSchedulesOutput>((resolve, reject) => {
      const index = token === undefined ? 0 : Number(token);
      requests.push({
        token,
        answer: () =>
          resolve({
            Schedules: [{ Name: `page-${index}` }],
            ...(index + 1 < pages ? { NextToken: String(index + 1) } : {}),
          }),
        fail: reject,
      });
    });
  return { requests, list };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ReadAheadListing', () => {
  it(`lists up to ${LIST_LOOKAHEAD_PAGES} pages ahead of the one taken, never more, in order`, async () => {
    // Prepare
    const { requests, list } = heldListing(12);
    const listed: string[] = [];
    const reader = new ReadAheadListing({
      list,
      nextToken: undefined,
      depth: LIST_LOOKAHEAD_PAGES,
      proceed: () => true,
      onListed: (page) => listed.push(page.Schedules?.[0]?.Name ?? ''),
    });

    // Act: answer every request at once, taking nothing
    for (let step = 0; step < 10; step += 1) {
      requests.at(-1)?.answer();
      await settle();
    }

    // Assess: the chain stopped at the bound, one request per page, each with the token before it
    expect(requests).toHaveLength(LIST_LOOKAHEAD_PAGES);
    expect(reader.held).toBe(LIST_LOOKAHEAD_PAGES);
    expect(requests.map((request) => request.token)).toEqual([undefined, '1', '2', '3']);
    expect(listed).toEqual(['page-0', 'page-1', 'page-2', 'page-3']);

    // Act: take pages one by one, answering each request as it is sent
    const taken: string[] = [];
    for (let page = 0; page < 12; page += 1) {
      const next = await reader.next();
      taken.push(next.page.Schedules?.[0]?.Name ?? '');
      requests.at(-1)?.answer();
      await settle();
      expect(reader.held).toBeLessThanOrEqual(LIST_LOOKAHEAD_PAGES);
    }

    // Assess
    expect(taken).toEqual(Array.from({ length: 12 }, (_, index) => `page-${index}`));
    expect(requests).toHaveLength(12);
    expect(reader.maxHeld).toBe(LIST_LOOKAHEAD_PAGES);
    await expect(reader.next()).rejects.toThrow('The listing has no page left');
  });

  it('hands a failed request out in its place, after the pages before it, and sends nothing after it', async () => {
    // Prepare
    const { requests, list } = heldListing(10);
    const reader = new ReadAheadListing({
      list,
      nextToken: undefined,
      depth: 3,
      proceed: () => true,
      onListed: () => undefined,
    });
    requests[0]?.answer();
    await settle();
    requests[1]?.fail(new Error('Invalid NextToken.'));
    await settle();

    // Act
    const first = await reader.next();
    const second = reader.next();

    // Assess
    expect(first.page.NextToken).toBe('1');
    await expect(second).rejects.toThrow('Invalid NextToken.');
    expect(requests).toHaveLength(2);
  });

  it('sends nothing ahead while `proceed` says no, but still lists the page `next()` asks for', async () => {
    // Prepare
    const { requests, list } = heldListing(10);
    let proceed = false;
    const reader = new ReadAheadListing({
      list,
      nextToken: '5',
      depth: 4,
      proceed: () => proceed,
      onListed: () => undefined,
    });
    await settle();
    expect(requests).toHaveLength(0);

    // Act
    const asked = reader.next();
    await settle();
    requests[0]?.answer();
    const page = await asked;
    await settle();

    // Assess: only the page asked for, from the token given
    expect(requests.map((request) => request.token)).toEqual(['5']);
    expect(page.page.Schedules?.[0]?.Name).toBe('page-5');

    // Act: allowed again, it reads ahead from the next page taken
    proceed = true;
    const again = reader.next();
    await settle();
    requests[1]?.answer();
    await again;
    await settle();
    expect(requests.map((request) => request.token)).toEqual(['5', '6', '7']);
  });

  it('sends nothing more once closed, and drops what it held', async () => {
    // Prepare
    const { requests, list } = heldListing(10);
    const reader = new ReadAheadListing({
      list,
      nextToken: undefined,
      depth: 4,
      proceed: () => true,
      onListed: () => undefined,
    });
    requests[0]?.answer();
    await settle();

    // Act
    reader.close();
    requests[1]?.answer();
    await settle();

    // Assess
    expect(requests).toHaveLength(2);
    expect(reader.held).toBe(0);
    await expect(reader.next()).rejects.toThrow('The listing has no page left');
  });

  it('refuses a depth that is not a whole number of pages, at least 1', () => {
    for (const depth of [0, -1, 1.5, Number.NaN]) {
      expect(
        () =>
          new ReadAheadListing({
            list: async () => ({ Schedules: [] }),
            nextToken: undefined,
            depth,
            proceed: () => true,
            onListed: () => undefined,
          }),
      ).toThrow(/Expected depth to be a whole number of pages, at least 1/);
    }
  });
});
