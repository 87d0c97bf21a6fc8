// The HTTP request handler of the Scheduler client and of the delete gate's lean DynamoDB and KMS
// clients: the SDK's HttpHandler interface over the undici package (the HTTP/1.1 client Node's fetch
// is built on, bundled from npm) instead of node:http. It cut the sweeper's CPU per Scheduler request
// by 13–21% in two A/B calls (docs/scale.md, "An undici request handler"), and it gives the delete
// gate its departure check where undici documents it: a dispatch handler's onRequestStart runs "before
// request is dispatched on socket", on a connected socket, just before the request's first byte is
// written (undici's lib/dispatcher/client-h1.js, writeH1). A check that refuses throws there: undici
// fails the request unwritten and keeps the connection for the next one. A request aborted (the
// sweep's deadline signal) while it waited for a connection is refused the same way when its turn
// comes; one aborted in flight is cut off, and undici closes its connection.
//
// It keeps the settings the clients gave NodeHttpHandler: connections per endpoint (maxSockets), the
// connection timeout and the request timeout, timed from the request's departure to its whole answer
// (undici's own headers and body timeouts, kept to about a second, stand behind it). Errors read as
// NodeHttpHandler's do, so the SDK's retry strategy and the sweep's budgets classify them alike: a
// timeout is a TimeoutError (code ETIMEDOUT), a connection closed before the whole answer came an
// ECONNRESET, an abort an AbortError. Answers are read whole into a Uint8Array, which the SDK's
// deserializers take as they take a stream (@smithy/core's collectBody); the SDK operations these
// clients send have no streaming answers.
import { buildQueryString, type HttpHandler, HttpResponse } from '@smithy/core/protocols';
import type { HttpHandlerOptions, HttpRequest } from '@smithy/types';
import { type Dispatcher, Pool } from 'undici';
import { type DepartureCheck, DepartureRefused, departureCheckFor } from './departure.ts';

export interface UndiciHandlerOptions {
  /** Connections kept open to one endpoint, at most (NodeHttpHandler's maxSockets). */
  connections: number;
  /** Milliseconds to set up a connection (TLS included) before it fails as a TimeoutError. */
  connectionTimeoutMs: number;
  /**
   * Milliseconds from a request's departure to its whole answer before it fails as a TimeoutError
   * (time queued for a connection not included).
   */
  requestTimeoutMs: number;
}

/** The codes undici gives its own timeouts. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/**
 * undici's codes for a connection that closed or failed before the answer was whole, its pool
 * closed or destroyed under the request included (NodeHttpHandler's "socket hang up").
 */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/**
 * An SDK v3 request handler (pass it as a client's `requestHandler`). One pool of connections per
 * endpoint origin. A request whose query carries a clientToken registered with sendWithDepartureCheck
 * (DeleteSchedule) passes that check when it leaves; `destroy()` closes every connection.
 */
export class UndiciHttpHandler implements HttpHandler<UndiciHandlerOptions> {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  private readonly pools = new Map<string, Pool>();
  private config: UndiciHandlerOptions;

  constructor(options: UndiciHandlerOptions) {
    this.config = { ...options };
  }

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const signal = options.abortSignal as AbortSignal | undefined;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const origin = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
    const query = request.query ? buildQueryString(request.query) : '';
    const path = query ? `${request.path}?${query}` : request.path;
    const timeout = options.requestTimeout ?? this.config.requestTimeoutMs;
    const token = request.query?.clientToken;
    const check = typeof token === 'string' ? departureCheckFor(token) : undefined;
    return new Promise((resolve, reject) => {
      let controller: Dispatcher.DispatchController | undefined;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // In flight: aborted now (undici closes its connection). Queued: refused when its turn comes.
        controller?.abort(abortError(signal));
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const finish = (outcome: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        outcome();
      };
      let statusCode = 0;
      let headers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      this.poolFor(origin).dispatch(
        {
          origin,
          method: request.method,
          path,
          headers: request.headers,
          body: (request.body as string | Uint8Array | undefined) ?? null,
          // undici's own timers, to about a second: a backstop behind the timer below.
          headersTimeout: timeout,
          bodyTimeout: timeout,
        },
        {
          onRequestStart(started) {
            // An error thrown here fails the request before its first byte is written, and undici
            // keeps the connection for the next request (lib/dispatcher/client-h1.js, writeH1, and
            // client.js, _resume); an abort would close it.
            if (settled) throw abortError(signal);
            // Synchronous: nothing runs between the check and the first byte written.
            const refusal = departureRefusal(check);
            if (refusal) throw refusal;
            controller = started;
            timer = setTimeout(() => started.abort(timeoutError(timeout)), timeout);
          },
          onResponseStart(_controller, status, answerHeaders) {
            statusCode = status;
            headers = joinedHeaders(answerHeaders);
          },
          onResponseData(_controller, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            finish(() => resolve({ response: new HttpResponse({ statusCode, headers, body }) }));
          },
          onResponseError(_controller, error) {
            finish(() => reject(asSdkError(error)));
          },
        },
      );
    });
  }

  updateHttpClientConfig(key: keyof UndiciHandlerOptions, value: number): void {
    this.config = { ...this.config, [key]: value };
    // New pools take the new settings; the open ones finish what they hold, then close.
    for (const pool of this.pools.values()) void pool.close().catch(() => {});
    this.pools.clear();
  }

  httpHandlerConfigs(): UndiciHandlerOptions {
    return { ...this.config };
  }

  destroy(): void {
    for (const pool of this.pools.values()) void pool.destroy().catch(() => {});
    this.pools.clear();
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.config.connections,
        connectTimeout: this.config.connectionTimeoutMs,
        headersTimeout: this.config.requestTimeoutMs,
        bodyTimeout: this.config.requestTimeoutMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

/**
 * The check's refusal, if any, as the error the request fails with. A check that throws refuses too:
 * the request is not sent either way.
 */
function departureRefusal(check: DepartureCheck | undefined): DepartureRefused | undefined {
  if (!check) return undefined;
  try {
    const reason = check();
    return reason === undefined ? undefined : new DepartureRefused(reason);
  } catch (error) {
    return new DepartureRefused(`the departure check failed: ${(error as Error)?.message ?? String(error)}`);
  }
}

/** As NodeHttpHandler names a request that outlasted its timeout. */
function timeoutError(timeoutMs: number): Error {
  return Object.assign(
    new Error(`the request timed out: no whole answer within ${timeoutMs} ms of leaving`),
    {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    },
  );
}

/** Headers as the SDK's HttpResponse holds them: one string per name, repeated values joined. */
function joinedHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) joined[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return joined;
}

/** As NodeHttpHandler builds it: an AbortError, with the signal's reason as its cause or message. */
function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  const error =
    reason === undefined || reason instanceof Error
      ? new Error('Request aborted')
      : new Error(String(reason));
  error.name = 'AbortError';
  if (reason instanceof Error) error.cause = reason;
  return error;
}

/** undici's errors named as NodeHttpHandler's are, so retries classify them the same way. */
function asSdkError(error: Error): Error {
  if (error instanceof DepartureRefused) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  if (TIMEOUT_CODES.has(code)) {
    return Object.assign(new Error(error.message, { cause: error }), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
  }
  if (CLOSED_CODES.has(code)) {
    return Object.assign(
      new Error(`connection closed before the whole answer: ${error.message}`, { cause: error }),
      {
        code: 'ECONNRESET',
      },
    );
  }
  // System errors (ECONNREFUSED, ECONNRESET, EPIPE, ...) keep their code, as with node:http.
  return error;
}
