// A lean request path for the sweep's three hot Scheduler operations (GetSchedule, DeleteSchedule,
// ListSchedules), built from the SDK client's own parts: its endpoint resolution, its SigV4 signer
// and credential provider, its HTTP handler (with the client's timeouts and sockets) and its protocol,
// which serializes the request and deserializes the answer or the modeled error (the same exception
// classes, `name`, `$fault` and `$metadata`). What it leaves out is the middleware stack, which the
// SDK resolves and walks on every send, re-reading endpoint settings and building a new signer each
// time: the sweeper's CPU per request about halves (docs/scale.md: 0.69 ms through `send`, 0.37 ms
// here, side by side). Successful answers are read with a reader compiled from the SDK's schema.
//
// Left out with the stack, on purpose: SDK retries (the sweeper's clients make one attempt; its
// request budgets own the retries), clock-skew correction from error answers (Lambda's clock is
// synchronized), the checksum and compression middlewares (these operations carry no body), and the
// SDK's telemetry headers (amz-sdk-invocation-id, amz-sdk-request). Every other command, and every
// call with a callback, goes through the SDK's own `send`.
import {
  DeleteSchedule$,
  DeleteScheduleCommand,
  GetSchedule$,
  GetScheduleCommand,
  ListSchedules$,
  ListSchedulesCommand,
  SchedulerClient,
  type SchedulerClientConfig,
} from '@aws-sdk/client-scheduler';
import { getEndpointFromInstructions, toEndpointV1 } from '@smithy/core/endpoints';
import { operation } from '@smithy/core/schema';
import { parseEpochTimestamp, toUtf8 } from '@smithy/core/serde';
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestSigner } from '@smithy/types';

type StaticOperationSchema = typeof GetSchedule$;

/** What the lean path needs from the client's resolved config (the SDK's own objects). */
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
  signer: (authScheme?: unknown) => Promise<RequestSigner>;
  systemClockOffset?: number;
  defaultUserAgentProvider?: () => Promise<[string, string | undefined][]>;
}

/** One operation's fixed parts, worked out once per client. */
interface Prepared {
  schema: ReturnType<typeof operation>;
  /** Reads a successful answer's JSON body into the SDK's output shape. */
  read: Reader;
}

type Reader = (value: unknown) => unknown;

interface Transport {
  /** The serialize/deserialize context: the client's config with the endpoint resolved once. */
  context: Record<string, unknown>;
  signer: RequestSigner;
  userAgent: string;
  operations: Map<StaticOperationSchema, Prepared>;
}

const prepare = (schema: StaticOperationSchema): Prepared => {
  const [, namespace, name, traits, input, output] = schema;
  return { schema: operation(namespace, name, traits, input, output), read: compileReader(output) };
};

// The SDK's static schemas, as its generated code writes them (see @smithy/core/schema): a structure
// is [3, namespace, name, traits, memberNames, memberSchemas, ...], a list [1, namespace, name, traits,
// member], a member either a schema, a function returning one, or [schema, traits]; 4 and 7 are
// timestamps (epoch seconds in restJson1). Anything else is read as the JSON value itself.
const STRUCTURE = 3;
const LIST = 1;
const TIMESTAMP_CODES = new Set([4, 7]);

/**
 * Compiles, once, a reader that does what the SDK's JSON deserializer does for these operations'
 * outputs: keep the modeled members that are present and not null, and turn timestamps into Dates
 * (with the SDK's own parseEpochTimestamp). Tested against the SDK's output in test/aws/lean.test.ts.
 */
function compileReader(schema: unknown): Reader {
  const resolved = typeof schema === 'function' ? (schema as () => unknown)() : schema;
  if (typeof resolved === 'number') {
    return TIMESTAMP_CODES.has(resolved) ? (value) => parseEpochTimestamp(value) : (value) => value;
  }
  if (!Array.isArray(resolved)) return (value) => value;
  if (resolved.length === 2) return compileReader(resolved[0]);
  if (resolved[0] === STRUCTURE) {
    const names = resolved[4] as string[];
    const schemas = resolved[5] as unknown[];
    let members: [string, Reader][] | undefined;
    return (value) => {
      members ??= names.map((member, index) => [member, compileReader(schemas[index])]);
      const record = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [member, read] of members) {
        const field = record[member];
        if (field != null) out[member] = read(field);
      }
      return out;
    };
  }
  if (resolved[0] === LIST) {
    let read: Reader | undefined;
    return (value) => {
      read ??= compileReader(resolved[4]);
      return (value as unknown[]).map((item) => read!(item));
    };
  }
  return (value) => value;
}

/**
 * A SchedulerClient whose GetSchedule, DeleteSchedule and ListSchedules skip the middleware stack.
 * Construct it exactly like a SchedulerClient: region, endpoint (or AWS_ENDPOINT_URL_SCHEDULER /
 * AWS_ENDPOINT_URL), credentials (or the SDK's default provider chain, so Lambda's role and session
 * token), and requestHandler settings all apply to both paths. `send(command, { abortSignal })` aborts
 * a lean request as it aborts an SDK one; the handler's request timeout applies to both.
 */
export class LeanSchedulerClient extends SchedulerClient {
  private transport?: Promise<Transport>;

  constructor(configuration: SchedulerClientConfig) {
    super(configuration);
  }

  // biome-ignore lint/suspicious/noExplicitAny: overrides every overload of Client.send at once.
  override send(command: any, optionsOrCallback?: any, callback?: any): any {
    if (typeof optionsOrCallback !== 'function' && callback === undefined) {
      const options = optionsOrCallback as HttpHandlerOptions | undefined;
      if (command instanceof GetScheduleCommand) return this.lean(GetSchedule$, command.input, options);
      if (command instanceof DeleteScheduleCommand) return this.lean(DeleteSchedule$, command.input, options);
      if (command instanceof ListSchedulesCommand) return this.lean(ListSchedules$, command.input, options);
    }
    return super.send(command, optionsOrCallback, callback);
  }

  private async lean(
    schema: StaticOperationSchema,
    input: object,
    options: HttpHandlerOptions | undefined,
  ): Promise<unknown> {
    if (!this.transport) {
      // Resolved once; a failure (no region, say) is raised to this caller and tried again by the next.
      this.transport = this.resolveTransport();
      this.transport.catch(() => {
        this.transport = undefined;
      });
    }
    const transport = await this.transport;
    const parts = this.config as unknown as ResolvedParts;
    const prepared = transport.operations.get(schema)!;
    const request = await parts.protocol.serializeRequest(prepared.schema, input, transport.context);
    const headers = request.headers;
    headers.host = request.port ? `${request.hostname}:${request.port}` : request.hostname;
    // Not signed (SigV4 leaves user-agent out). The SDK's amz-sdk-invocation-id and amz-sdk-request
    // telemetry headers are left out: each would be one more header to canonicalize and sign.
    headers['user-agent'] = transport.userAgent;
    const signed = (await transport.signer.sign(request, {
      signingDate: new Date(Date.now() + (parts.systemClockOffset ?? 0)),
    })) as HttpRequest;
    const { response } = await parts.requestHandler.handle(signed, options ?? {});
    if (response.statusCode < 300) {
      const bytes = await parts.streamCollector(response.body);
      const output = (bytes.byteLength > 0 ? prepared.read(JSON.parse(toUtf8(bytes))) : {}) as Record<
        string,
        unknown
      >;
      output.$metadata = {
        ...parts.protocol.deserializeMetadata(response),
        attempts: 1,
        totalRetryDelay: 0,
      };
      return output;
    }
    try {
      // Errors take the SDK's own path: the modeled exception classes, their fields and $metadata.
      await parts.protocol.deserializeResponse(prepared.schema, transport.context, response);
      throw new Error(`Scheduler answered HTTP ${response.statusCode} and the SDK did not raise it`);
    } catch (error) {
      // As the SDK's deserializer step does: the raw answer stays reachable, hidden.
      if (error !== null && typeof error === 'object') {
        Object.defineProperty(error, '$response', {
          value: response,
          enumerable: false,
          writable: false,
          configurable: false,
        });
      }
      const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata;
      if (metadata) {
        metadata.attempts = 1;
        metadata.totalRetryDelay = 0;
      }
      throw error;
    }
  }

  /** Endpoint, signer and user agent, resolved once by the SDK's own rules. */
  private async resolveTransport(): Promise<Transport> {
    const config = this.config as unknown as ResolvedParts & Record<string, unknown>;
    // A copy, as the SDK's endpoint middleware passes: resolving may record a configured endpoint URL.
    const endpoint = await getEndpointFromInstructions(
      {},
      GetScheduleCommand as unknown as Parameters<typeof getEndpointFromInstructions>[1],
      { ...config } as unknown as Parameters<typeof getEndpointFromInstructions>[2],
    );
    const endpointV1 = toEndpointV1(endpoint);
    const authScheme = (endpoint.properties?.authSchemes as unknown[] | undefined)?.[0];
    const signer = cacheSigningKey(await config.signer(authScheme));
    const pairs = (await config.defaultUserAgentProvider?.()) ?? [];
    const userAgent = pairs
      .map(([name, version]) => (version === undefined ? name : `${name}/${version}`))
      .concat('m/lean')
      .join(' ');
    return {
      context: { ...config, endpoint: async () => endpointV1, endpointV2: endpoint },
      signer,
      userAgent,
      operations: new Map(
        [GetSchedule$, DeleteSchedule$, ListSchedules$].map((schema) => [schema, prepare(schema)]),
      ),
    };
  }
}

type SigningKeyDeriver = (
  credentials: object,
  region: string,
  shortDate: string,
  service?: string,
) => Promise<Uint8Array>;

/**
 * The SDK's signer derives the day's signing key from a cache, but builds that cache's key with an
 * HMAC of the credentials on every request. This keeps the derived key per credentials object (the
 * SDK's memoized provider hands out the same object until it refreshes them) and per day, region and
 * service, and otherwise leaves the signer as it is.
 */
function cacheSigningKey(signer: RequestSigner): RequestSigner {
  const target = signer as RequestSigner & { getSigningKey?: SigningKeyDeriver };
  const derive = target.getSigningKey?.bind(signer);
  if (!derive) return signer;
  const keys = new WeakMap<object, Map<string, Promise<Uint8Array>>>();
  target.getSigningKey = (credentials, region, shortDate, service) => {
    let byScope = keys.get(credentials);
    if (!byScope) {
      byScope = new Map();
      keys.set(credentials, byScope);
    }
    const scope = `${shortDate}/${region}/${service ?? ''}`;
    let key = byScope.get(scope);
    if (!key) {
      // One scope a day per region: drop yesterday's when today's is derived.
      byScope.clear();
      key = derive(credentials, region, shortDate, service);
      byScope.set(scope, key);
      key.catch(() => byScope?.delete(scope));
    }
    return key;
  };
  return signer;
}
