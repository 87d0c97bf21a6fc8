// The lean request path: chosen operations of an SDK client sent with the client's own parts (its
// endpoint rules, signing name, region and credentials, HTTP handler with its timeouts and
// connections, protocol serializer and deserializer, and retry strategy) but without its middleware
// stack, which the SDK resolves and walks on every send: re-reading endpoint settings, building a new
// signer, hashing the credentials for the signing-key cache. Requests are signed (SigV4) by the aws4
// package, which costs about half the SDK's signer per request (docs/scale.md, "A leaner signer");
// test/aws/lean.test.ts checks its signatures against the SDK's signer. The sweep's hot requests take
// it: Scheduler's GetSchedule, DeleteSchedule and ListSchedules (scheduler-lean.ts), and the delete
// gate's DynamoDB BatchWriteItem and BatchGetItem (dynamodb-lean.ts) and KMS GenerateMac
// (kms-lean.ts). docs/scale.md has the measurements.
//
// Left out with the stack, on purpose: clock-skew correction from error answers (Lambda's clock is
// synchronized), the checksum and compression middlewares (these operations need neither), and the
// SDK's telemetry headers (amz-sdk-invocation-id, amz-sdk-request). Every other command, and every
// call with a callback, goes through the SDK's own `send`.
import { getEndpointFromInstructions, toEndpointV1 } from '@smithy/core/endpoints';
import { buildQueryString } from '@smithy/core/protocols';
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { operation } from '@smithy/core/schema';
import { toUtf8 } from '@smithy/core/serde';
import type {
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RetryErrorInfo,
  RetryErrorType,
  RetryStrategyV2,
  StaticOperationSchema,
} from '@smithy/types';
import aws4 from 'aws4';

/** What the lean path needs from a client's resolved config (the SDK's own objects). */
interface ResolvedParts {
  protocol: {
    serializeRequest(schema: unknown, input: unknown, context: unknown): Promise<HttpRequest>;
    deserializeResponse(schema: unknown, context: unknown, response: HttpResponse): Promise<unknown>;
    deserializeMetadata(response: HttpResponse): Record<string, unknown>;
  };
  streamCollector: (body: unknown) => Promise<Uint8Array>;
  requestHandler: {
    handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }>;
  };
  /** Resolves the client's signer; as it does, the SDK records the signing name and region below. */
  signer: (authScheme?: unknown) => Promise<unknown>;
  signingName?: string;
  signingRegion?: string;
  /** SigV4 signs the path escaped once more (false only for S3, which the lean path never sends). */
  signingEscapePath?: boolean;
  credentials: () => Promise<AwsCredentials>;
  retryStrategy: () => Promise<RetryStrategyV2 | object>;
  systemClockOffset?: number;
  defaultUserAgentProvider?: () => Promise<[string, string | undefined][]>;
}

/** Reads a successful answer's parsed JSON body into the SDK's output shape. */
export type Reader = (value: unknown) => unknown;

/** One operation the lean path sends. */
export interface LeanOperation {
  /** The SDK's static schema of the operation (`GetSchedule$`, `BatchWriteItem$`, ...). */
  schema: StaticOperationSchema;
  /** The SDK's command class: its endpoint parameters are the ones the endpoint rules are given. */
  command: abstract new (
    ...args: never[]
  ) => object;
  /**
   * Reads a successful answer (its JSON parsed); absent: the SDK's own deserializer reads it. A reader
   * is only for outputs whose JSON needs no decoding but timestamps (no blobs, no unions).
   */
  read?: Reader;
  /**
   * Writes the request's JSON body from the input; absent: the SDK's serializer writes it. Only for
   * JSON protocols whose body is the input as it is, blobs in base64 (DynamoDB's awsJson1_0).
   */
  write?: (input: never) => string;
  /**
   * The part of an input the operation's endpoint depends on (its operationContextParams, such as
   * DynamoDB's table names), as a key: the endpoint is resolved once per key. Absent: once.
   */
  endpointKey?: (input: never) => string;
}

/**
 * Whether a lean request makes one attempt (the caller's budgets own retries: the Scheduler client,
 * which must then be built with maxAttempts 1) or retries as the client's SDK retry strategy does.
 */
export type LeanRetries = 'one attempt' | 'client strategy';

interface Prepared extends LeanOperation {
  operationSchema: ReturnType<typeof operation>;
  /** The output structure has no members: its answer's body is not read. */
  emptyOutput: boolean;
}

interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface Shared {
  /** SigV4's service signing name and region, as the SDK's own signer would use them. */
  signingName: string;
  signingRegion: string;
  userAgent: string;
}

/** The lean path of one client: which commands it takes, and how it sends them. */
export class LeanRequestPath {
  private readonly operations = new Map<unknown, Prepared>();
  private shared?: Promise<Shared>;
  private readonly contexts = new Map<string, Promise<Record<string, unknown>>>();

  constructor(
    private readonly client: { config: unknown },
    operations: LeanOperation[],
    private readonly retries: LeanRetries,
  ) {
    for (const lean of operations) {
      const [, namespace, name, traits, input, output] = lean.schema;
      this.operations.set(lean.command, {
        ...lean,
        operationSchema: operation(namespace, name, traits, input, output),
        emptyOutput: hasNoMembers(output),
      });
    }
  }

  /**
   * A client's `send`, with every overload's arguments: a command of this path with no callback goes
   * the lean way (answering and throwing as the SDK's `send` would), anything else to `sdkSend`.
   */
  route(command: unknown, optionsOrCallback: unknown, callback: unknown, sdkSend: () => unknown): unknown {
    const lean =
      typeof optionsOrCallback !== 'function' &&
      callback === undefined &&
      this.operations.has((command as { constructor?: unknown } | undefined)?.constructor);
    if (!lean) return sdkSend();
    return this.send(command as { input: object }, optionsOrCallback as HttpHandlerOptions | undefined);
  }

  private async send(command: { input: object }, options: HttpHandlerOptions | undefined): Promise<unknown> {
    const prepared = this.operations.get(command.constructor)!;
    if (this.retries === 'client strategy') {
      return this.withClientRetries(() => this.attempt(prepared, command.input, options), options);
    }
    try {
      const output = (await this.attempt(prepared, command.input, options)) as { $metadata: Metadata };
      Object.assign(output.$metadata, { attempts: 1, totalRetryDelay: 0 });
      return output;
    } catch (error) {
      throw attemptsMade(error, 1, 0);
    }
  }

  private get parts(): ResolvedParts {
    return this.client.config as ResolvedParts;
  }

  private async attempt(
    prepared: Prepared,
    input: object,
    options: HttpHandlerOptions | undefined,
  ): Promise<unknown> {
    const [shared, context] = await Promise.all([this.resolveShared(), this.contextFor(prepared, input)]);
    const parts = this.parts;
    const request = await parts.protocol.serializeRequest(
      prepared.operationSchema,
      prepared.write ? {} : input,
      context,
    );
    if (prepared.write) request.body = prepared.write(input as never);
    const headers = request.headers;
    headers.host = request.port ? `${request.hostname}:${request.port}` : request.hostname;
    // Not signed (SigV4 leaves user-agent out).
    headers['user-agent'] = shared.userAgent;
    await sign(request, shared, parts);
    const { response } = await parts.requestHandler.handle(request, options ?? {});
    try {
      if (response.statusCode < 300 && prepared.read) {
        // A Uint8Array from UndiciHttpHandler, else a stream (the SDK's own handler).
        const bytes =
          response.body instanceof Uint8Array ? response.body : await parts.streamCollector(response.body);
        // As the SDK's deserializer: an output without members (DeleteSchedule's) reads no body.
        const output = (
          bytes.byteLength > 0 && !prepared.emptyOutput ? prepared.read(JSON.parse(toUtf8(bytes))) : {}
        ) as Record<string, unknown>;
        output.$metadata = parts.protocol.deserializeMetadata(response);
        return output;
      }
      return await parts.protocol.deserializeResponse(prepared.operationSchema, context, response);
    } catch (error) {
      throw answered(error, response, parts);
    }
  }

  /**
   * The SDK retry middleware's loop, with the client's own retry strategy (standard by default: its
   * maxAttempts, backoff and retry quota) and the SDK's own error classification.
   */
  private async withClientRetries(
    attempt: () => Promise<unknown>,
    options: HttpHandlerOptions | undefined,
  ): Promise<unknown> {
    const strategy = await this.parts.retryStrategy();
    if (!isRetryStrategyV2(strategy)) throw new Error('The lean request path needs a retry strategy v2');
    const signal = options?.abortSignal as AbortSignal | undefined;
    let token = await strategy.acquireInitialRetryToken('');
    let totalRetryDelay = 0;
    for (;;) {
      try {
        const output = (await attempt()) as { $metadata: Metadata };
        strategy.recordSuccess(token);
        Object.assign(output.$metadata, { attempts: token.getRetryCount() + 1, totalRetryDelay });
        return output;
      } catch (error) {
        const attempts = token.getRetryCount() + 1;
        try {
          if (signal?.aborted) throw error;
          // The answer's Retry-After, as the SDK's retry step reads it.
          const retryAfterHint = getRetryAfterHint((error as { $response?: unknown }).$response);
          const info = {
            error,
            errorType: retryErrorType(error),
            ...(retryAfterHint ? { retryAfterHint } : {}),
          } as RetryErrorInfo;
          // The strategy may wait inside (its retry log's acquisitionDelay); an abort cuts it short.
          token = await untilAborted(strategy.refreshRetryTokenForRetry(token, info), signal);
        } catch {
          throw attemptsMade(error, attempts, totalRetryDelay);
        }
        const delay = token.getRetryDelay();
        const acquisitionDelay = (token as { $retryLog?: { acquisitionDelay?: number } }).$retryLog
          ?.acquisitionDelay;
        totalRetryDelay += (acquisitionDelay ?? 0) + delay;
        if (delay > 0) {
          let timer: NodeJS.Timeout | undefined;
          try {
            await untilAborted(
              new Promise((resolve) => {
                timer = setTimeout(resolve, delay);
              }),
              signal,
            );
          } catch {
            throw attemptsMade(error, attempts, totalRetryDelay);
          } finally {
            // An abort leaves no timer behind to keep the process alive.
            clearTimeout(timer);
          }
        }
      }
    }
  }

  /** Signer and user agent, resolved once by the SDK's own rules; a failure is tried again next time. */
  private resolveShared(): Promise<Shared> {
    if (!this.shared) {
      this.shared = (async () => {
        const config = this.parts;
        const first = this.operations.values().next().value as Prepared;
        const endpoint = await this.resolveEndpoint(first, {});
        const authScheme = (endpoint.properties?.authSchemes as unknown[] | undefined)?.[0];
        await config.signer(authScheme);
        const { signingName, signingRegion } = config;
        if (!signingName || !signingRegion || config.signingEscapePath === false) {
          throw new Error('The lean request path signs only SigV4 requests with a signing name and region');
        }
        const pairs = (await config.defaultUserAgentProvider?.()) ?? [];
        const userAgent = pairs
          .map(([name, version]) => (version === undefined ? name : `${name}/${version}`))
          .concat('m/lean')
          .join(' ');
        return { signingName, signingRegion, userAgent };
      })();
      this.shared.catch(() => {
        this.shared = undefined;
      });
    }
    return this.shared;
  }

  /** The serialize/deserialize context: the client's config with the endpoint resolved for this key. */
  private contextFor(prepared: Prepared, input: object): Promise<Record<string, unknown>> {
    const key = `${prepared.schema[2]}\n${prepared.endpointKey?.(input as never) ?? ''}`;
    let context = this.contexts.get(key);
    if (!context) {
      context = this.resolveEndpoint(prepared, input).then((endpoint) => {
        const endpointV1 = toEndpointV1(endpoint);
        return { ...(this.client.config as object), endpoint: async () => endpointV1, endpointV2: endpoint };
      });
      // Operations and their endpoint keys are few (table names); the bound guards against a flood.
      if (this.contexts.size >= 100) this.contexts.clear();
      this.contexts.set(key, context);
      context.catch(() => this.contexts.delete(key));
    }
    return context;
  }

  private resolveEndpoint(prepared: Prepared, input: object) {
    // A copy of the config, as the SDK's endpoint middleware passes: resolving may record a configured URL.
    return getEndpointFromInstructions(
      input,
      prepared.command as unknown as Parameters<typeof getEndpointFromInstructions>[1],
      { ...(this.client.config as object) } as unknown as Parameters<typeof getEndpointFromInstructions>[2],
    );
  }
}

type Metadata = Record<string, unknown>;

/** A static structure schema ([3, namespace, name, traits, memberNames, ...]) with no members. */
function hasNoMembers(schema: unknown): boolean {
  const resolved = typeof schema === 'function' ? (schema as () => unknown)() : schema;
  return (
    Array.isArray(resolved) && resolved[0] === 3 && Array.isArray(resolved[4]) && resolved[4].length === 0
  );
}

/**
 * As the SDK's deserializer step does with an answer it could not read into a modeled error (a proxy's
 * HTML page, a cut-off body): the raw answer stays reachable, hidden, and an error without `$metadata`
 * gets the answer's status and request ids, so retries and the budgets classify it by its status.
 */
function answered(error: unknown, response: HttpResponse, parts: ResolvedParts): unknown {
  if (error === null || typeof error !== 'object') return error;
  Object.defineProperty(error, '$response', {
    value: response,
    enumerable: false,
    writable: false,
    configurable: false,
  });
  if (!('$metadata' in error)) {
    const described = error as { message?: unknown; $metadata?: Metadata };
    if (typeof described.message === 'string') {
      described.message += `\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.`;
    }
    described.$metadata = parts.protocol.deserializeMetadata(response);
  }
  return error;
}

/** As the SDK's retry step does for every error it gives up on: how many attempts, how long it waited. */
function attemptsMade(error: unknown, attempts: number, totalRetryDelay: number): unknown {
  if (error === null || typeof error !== 'object') return error;
  const described = error as { $metadata?: Metadata };
  described.$metadata ??= {};
  Object.assign(described.$metadata, { attempts, totalRetryDelay });
  return error;
}

/** The promise, or a rejection as soon as the signal aborts (the SDK's retry step races the same way). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  let stop = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    stop = () => signal.removeEventListener('abort', onAbort);
  });
  return Promise.race([promise, aborted]).finally(stop);
}

function isRetryStrategyV2(strategy: object): strategy is RetryStrategyV2 {
  const candidate = strategy as Partial<RetryStrategyV2>;
  return (
    typeof candidate.acquireInitialRetryToken === 'function' &&
    typeof candidate.refreshRetryTokenForRetry === 'function' &&
    typeof candidate.recordSuccess === 'function'
  );
}

/** The SDK retry middleware's classification (@smithy/core/retry). */
function retryErrorType(error: unknown): RetryErrorType {
  const candidate = error as Parameters<typeof isThrottlingError>[0];
  if (isThrottlingError(candidate)) return 'THROTTLING';
  if (isTransientError(candidate)) return 'TRANSIENT';
  if (isServerError(candidate)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

/**
 * Signs the request in place with SigV4 (the aws4 package): the date of the moment (with the client's
 * clock offset), the credentials of the moment from the client's own provider (so keys rotated or
 * refreshed are used at once; aws4 keeps each day's signing key per secret, region and service), and
 * the path and query exactly as the request handler will write them. aws4 keeps the X-Amz-Date set
 * here and adds X-Amz-Security-Token with a session token, Content-Length with a body, and Authorization.
 */
async function sign(request: HttpRequest, shared: Shared, parts: ResolvedParts): Promise<void> {
  const credentials = await parts.credentials();
  const signingDate = new Date(Date.now() + (parts.systemClockOffset ?? 0));
  request.headers['x-amz-date'] = signingDate.toISOString().replace(/[:-]|\.\d{3}/g, '');
  request.path = asAws4SignsIt(request.path);
  const query = request.query ? buildQueryString(request.query) : '';
  const signed = aws4.sign(
    {
      method: request.method,
      host: request.headers.host,
      path: query ? `${request.path}?${query}` : request.path,
      headers: request.headers,
      body: request.body as string | Buffer | undefined,
      service: shared.signingName,
      region: shared.signingRegion,
    },
    credentials,
  );
  request.headers = signed.headers as Record<string, string>;
}

/** Characters aws4 signs as they stand in a path (its parsePath); any other makes it encode the path. */
const AWS4_PATH_CHARACTERS = /[^0-9A-Za-z;,/?:@&=+$\-_.!~*'()#%]/;

/**
 * The path as aws4 signs it, so that the path written is the path signed. The SDK escapes every label
 * and query value, so only an endpoint's own path prefix (a proxy's `/a|b`) can hold characters aws4
 * encodes first (`encodeURI(decodeURI(path))`); such a path is sent encoded the same way. A prefix
 * with a malformed escape (`%` not followed by two hex digits) is refused with a URIError naming it.
 */
function asAws4SignsIt(path: string): string {
  if (!AWS4_PATH_CHARACTERS.test(path)) return path;
  try {
    return encodeURI(decodeURI(path));
  } catch {
    throw new URIError(
      `The request path '${path}' has a '%' that starts no escape: expected %XX, X a hex digit`,
    );
  }
}
