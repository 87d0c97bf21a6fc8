// The moment a request leaves. A request handed to the SDK can wait before it is written to the
// network: in the client's connection pool behind other requests (a slow ListSchedules page, slow
// lookups), or while a new connection is set up. A precondition checked when `send()` was called may
// be stale by the time the request leaves. A departure check runs when the request has its connected
// socket, just before its first byte is written; if it answers with a reason, the request is never
// written and its send rejects with DepartureRefused.
//
// The Scheduler client's request handler (undici-handler.ts) runs the check of a request whose query
// carries a `clientToken` registered by `sendWithDepartureCheck` (DeleteSchedule sends its token in
// the query: `DELETE /schedules/{Name}?clientToken=&groupName=`); every other request is untouched.
// (A lookup by token, not an AsyncLocalStorage: that would turn on promise hooks for the whole
// process, a few percent of the sweeper's CPU.)

/**
 * Runs at the request's departure; returns why it must not leave, or undefined to let it go.
 * Synchronous, so nothing can change between the check and the first byte written.
 */
export type DepartureCheck = () => string | undefined;

/** A request stopped at its departure by its check: nothing of it was written to the network. */
export class DepartureRefused extends Error {
  override name = 'DepartureRefused';
  /** Read by RequestBudget: a request that never left is not counted as sent. */
  readonly notSent = true;
  constructor(readonly reason: string) {
    super(`request not sent: ${reason}`);
  }
}

/** Checks in force, by the client token their request carries in its query. */
const checks = new Map<string, DepartureCheck>();

/**
 * Calls `send` (one SDK send of a request whose query carries `clientToken`, e.g. DeleteSchedule)
 * so that the request passes `check` at its departure. Only requests made through a client whose request
 * handler is an UndiciHttpHandler are checked; with any other handler the check never runs, so
 * callers must build their client with createSchedulerClient. One send per token at a time.
 */
export async function sendWithDepartureCheck<T>(
  clientToken: string,
  check: DepartureCheck,
  send: () => Promise<T>,
): Promise<T> {
  checks.set(clientToken, check);
  try {
    return await send();
  } finally {
    checks.delete(clientToken);
  }
}

/**
 * The check in force for a client token, if any, for the transport to call where its request leaves:
 * UndiciHttpHandler, or a test's stand-in client.
 */
export function departureCheckFor(clientToken: string): DepartureCheck | undefined {
  return checks.get(clientToken);
}
