// What the bench measures in its own process: peak resident memory (sampled, and the kernel's high
// water mark) and, per Scheduler operation, when requests were sent, so each operation's rate is
// taken over the window in which it was actually active.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { wasNotSent } from '../../src/aws/budget.ts';

export interface RssSampler {
  /** Highest sampled RSS in MiB since start. */
  peakMiB(): number;
  stop(): void;
}

export function sampleRss(intervalMs = 50): RssSampler {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, intervalMs);
  timer.unref();
  return {
    peakMiB: () => Math.max(peak, process.memoryUsage.rss()) / 2 ** 20,
    stop: () => clearInterval(timer),
  };
}

/** The kernel's peak RSS of this process (resourceUsage reports KiB). */
export const maxRssMiB = () => process.resourceUsage().maxRSS / 1024;

export interface OperationWindow {
  /** Attempts sent by this process (each SDK retry counts). */
  sent: number;
  firstMs: number;
  lastMs: number;
  /** Attempts answered (or failed): their round trips are in `roundTripMs`. */
  settled: number;
  /** Sum of the settled attempts' round trips, send to answer as this process saw them, in ms. */
  roundTripMs: number;
  /** Time during which at least one attempt of this operation was in flight, in ms. */
  inFlightMs: number;
}

export interface RequestMeter {
  windows(): Record<string, OperationWindow>;
  reset(): void;
}

/**
 * Records each request's send time per operation by wrapping the client's `send` (the sweep's client
 * makes one attempt per send: its budgets own the retries), and when it settles: the sum of round
 * trips, and the time with at least one in flight (for ListSchedules, a NextToken chain with one
 * request in flight at a time, how much of the sweep the listing was busy). Works the same for the
 * SDK's pipeline and the lean request path, which share `send`. Keeps a few numbers per operation,
 * never per request.
 */
export function meterRequests(
  client: Pick<SchedulerClient, 'send'> | Pick<DynamoDBClient, 'send'>,
  now: () => number = () => performance.now(),
): RequestMeter {
  let windows: Record<string, OperationWindow> = {};
  /** Per operation: attempts in flight, and since when the count was last above zero. */
  let flights: Record<string, { count: number; since: number }> = {};
  const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const metered = (command: { constructor: { name: string } }, ...rest: unknown[]) => {
    const operation = command.constructor.name.replace(/Command$/, '');
    const at = now();
    let window = windows[operation];
    if (window) {
      window.sent += 1;
      window.lastMs = at;
    } else {
      window = { sent: 1, firstMs: at, lastMs: at, settled: 0, roundTripMs: 0, inFlightMs: 0 };
      windows[operation] = window;
    }
    const flight = flights[operation] ?? { count: 0, since: at };
    flights[operation] = flight;
    if (flight.count === 0) flight.since = at;
    flight.count += 1;
    const counted = window;
    const settle = () => {
      const end = now();
      counted.settled += 1;
      counted.roundTripMs += end - at;
      flight.count -= 1;
      if (flight.count === 0) counted.inFlightMs += end - flight.since;
    };
    const answer = send(command, ...rest);
    answer.then(settle, (error: unknown) => {
      settle();
      // Stopped at its departure by the delete gate: it never reached the service.
      if (wasNotSent(error)) counted.sent -= 1;
    });
    return answer;
  };
  (client as { send: unknown }).send = metered;
  return {
    windows: () => windows,
    reset: () => {
      windows = {};
      flights = {};
    },
  };
}

/**
 * Counts a DynamoDB client's requests per operation, every attempt (the SDK's retries included), at
 * the client's HTTP request handler. Unlike wrapping `send`, it also sees the requests of a
 * DynamoDBDocumentClient built on the client (the lookup memory's), which share its handler.
 */
export function meterDynamoDbRequests(client: DynamoDBClient): DynamoDbMeter {
  let counts: Record<string, number> = {};
  // At the HTTP handler, which every attempt reaches, through the SDK's middleware stack or the lean
  // request path alike; the operation is the X-Amz-Target header's (DynamoDB_20120810.<Operation>).
  const handler = client.config.requestHandler as {
    handle(request: { headers: Record<string, string> }, options?: unknown): Promise<unknown>;
  };
  const handle = handler.handle.bind(handler);
  handler.handle = (request, handlerOptions) => {
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? 'unknown';
    const operation = target.slice(target.indexOf('.') + 1);
    counts[operation] = (counts[operation] ?? 0) + 1;
    return handle(request, handlerOptions);
  };
  return {
    counts: () => counts,
    reset: () => {
      counts = {};
    },
  };
}

export interface DynamoDbMeter {
  /** Requests sent per operation (BatchWriteItem, BatchGetItem, ... also for a document client's), every attempt. */
  counts(): Record<string, number>;
  reset(): void;
}
