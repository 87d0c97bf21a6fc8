// The moment a request leaves. A request handed to the SDK can wait before it is written to the
// network: in the client's socket pool behind other requests (a slow ListSchedules page, slow
// lookups), or while a new connection is set up. A precondition checked when `send()` was called may
// be stale by the time the request leaves. A departure check runs when the request has its connected
// socket, just before its first byte is written; if it answers with a reason, the request is never
// written and its send rejects with DepartureRefused.
//
// Node's http.ClientRequest buffers what it is asked to write until the agent assigns it a socket
// (`onSocket`); a request destroyed before that hands the socket back to the pool unused (Node's
// lib/_http_client.js, onSocketNT). The agents below wrap `onSocket` for requests whose query
// carries a `clientToken` registered by `sendWithDepartureCheck` (DeleteSchedule sends its token in
// the query: `DELETE /schedules/{Name}?clientToken=&groupName=`); every other request is untouched.
// (A lookup by token, not an AsyncLocalStorage: that would turn on promise hooks for the whole
// process, a few percent of the sweeper's CPU.)
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

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
 * so that the request passes `check` at its departure. Only requests made through a client built
 * with departureAgents() are checked; with any other agent the check never runs, so callers must
 * build their client with them (createSchedulerClient does). One send per token at a time.
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
 * The check in force for a client token, if any: for a transport other than these agents (a test's
 * stand-in client), which must call it where its request would leave.
 */
export function departureCheckFor(clientToken: string): DepartureCheck | undefined {
  return checks.get(clientToken);
}

const TOKEN_PARAMETER = 'clientToken=';

/** The clientToken in a request path's query, if any. */
function tokenOf(path: string | undefined): string | undefined {
  const at = path?.indexOf(TOKEN_PARAMETER) ?? -1;
  if (path === undefined || at < 0) return undefined;
  const end = path.indexOf('&', at);
  return decodeURIComponent(path.slice(at + TOKEN_PARAMETER.length, end < 0 ? undefined : end));
}

type SocketHandler = (socket: Socket, error?: Error) => void;
type Outgoing = Omit<http.ClientRequest, 'onSocket'> & { onSocket: SocketHandler };

/** Wraps the request's socket assignment with the check in force where it was made, if any. */
function guard(request: Outgoing): void {
  if (checks.size === 0) return;
  const token = tokenOf(request.path);
  const check = token === undefined ? undefined : checks.get(token);
  if (!check) return;
  const assign = request.onSocket.bind(request);
  request.onSocket = (socket, error) => {
    if (error || !socket) return assign(socket, error);
    const depart = () => {
      const refusal = check();
      // Destroyed before its socket is taken up: Node frees the socket back to the pool unwritten.
      if (refusal !== undefined) request.destroy(new DepartureRefused(refusal));
      assign(socket);
    };
    if (!socket.connecting) return depart();
    // A new connection: the request leaves once it is set up (TLS included), so check then.
    const ready = readyEvent(socket);
    const onError = (failure: Error) => {
      socket.off(ready, onReady);
      assign(socket, failure);
    };
    const onReady = () => {
      socket.off('error', onError);
      depart();
    };
    socket.once(ready, onReady);
    socket.once('error', onError);
  };
}

/** 'secureConnect' for a TLS socket (the request is written after the handshake), else 'connect'. */
function readyEvent(socket: Socket): 'secureConnect' | 'connect' {
  return 'encrypted' in socket ? 'secureConnect' : 'connect';
}

type Adding = { addRequest(request: Outgoing, options: unknown): void };

function withDepartureChecks<A extends http.Agent>(agent: A): A {
  const adding = agent as unknown as Adding;
  const add = adding.addRequest.bind(agent);
  adding.addRequest = (request, options) => {
    guard(request);
    add(request, options);
  };
  return agent;
}

/**
 * Keep-alive agents for http and https whose requests honour sendWithDepartureCheck. Pass them as
 * the request handler's httpAgent and httpsAgent.
 */
export function departureAgents(options: http.AgentOptions): {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
} {
  return {
    httpAgent: withDepartureChecks(new http.Agent(options)),
    httpsAgent: withDepartureChecks(new https.Agent(options)),
  };
}
