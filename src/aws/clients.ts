// AWS client construction in one place: region, endpoint and retry settings.
// Endpoints follow the SDK's own rules (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SCHEDULER, ...), so the same
// code talks to AWS or to the local emulator; `endpoint` here overrides them for tests and scripts.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { LeanDynamoDBClient } from './dynamodb-lean.ts';
import { LeanKMSClient } from './kms-lean.ts';
import { LeanSchedulerClient } from './scheduler-lean.ts';
import { UndiciHttpHandler } from './undici-handler.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface ClientOptions {
  region?: string;
  /** Overrides every service endpoint (the emulator's base URL in tests and scripts). */
  endpoint?: string;
  /** Static keys, or a provider the client calls (and calls again near `expiration`), e.g. an assumed role's. */
  credentials?: Credentials | (() => Promise<Credentials>);
  /**
   * SDK-level attempts. The sweeper and census pass 1 for the Scheduler client: every request,
   * retries included, must go through their own rate budget, so the SDK must not retry behind it.
   */
  maxAttempts?: number;
  /**
   * How long one request may take before it is abandoned as failed (and retried by whoever owns
   * retries). Without it a stuck socket could hold a sweep past its Lambda deadline.
   */
  requestTimeoutMs?: number;
  /**
   * Most sockets kept open to one endpoint (keep-alive). Size it to the requests in flight: with
   * fewer, requests queue inside the client and every queued one waits a round trip longer.
   */
  maxSockets?: number;
  /**
   * Resolve each command type's middleware stack once and reuse it (the SDK's `cacheMiddleware`),
   * instead of on every send. Middleware added to the client after its first send is then ignored,
   * so it is off unless asked for.
   */
  cacheMiddleware?: boolean;
}

export interface SchedulerClientOptions extends ClientOptions {
  /**
   * Send GetSchedule, DeleteSchedule and ListSchedules through the lean request path (see
   * scheduler-lean.ts): the SDK's own endpoint rules, credentials and protocol without its middleware
   * stack, signed by aws4, sent by the undici handler as every request of this client is. It makes
   * exactly one attempt, so it needs `maxAttempts: 1`.
   */
  leanRequestPath?: boolean;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const CONNECTION_TIMEOUT_MS = 3_000;
/** The SDK's own default; the sweep raises it to its concurrency. */
const DEFAULT_MAX_SOCKETS = 50;

/**
 * The region given, or AWS_REGION, or AWS_DEFAULT_REGION (which SDK v3 does not read itself); unset
 * and '' mean not given. Without any, the SDK resolves it (the profile's region in ~/.aws/config) or
 * fails with "Region is missing": a region is never guessed, since a guess would create or delete
 * schedules in another Region than the operator meant.
 */
function regionOf(options: ClientOptions): string | undefined {
  return options.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
}

function common(options: ClientOptions) {
  const agent = { keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS };
  const region = regionOf(options);
  return {
    ...(options.cacheMiddleware ? { cacheMiddleware: true } : {}),
    ...(region ? { region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      // Without this the handler only logs a warning when the timeout passes.
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  };
}

/**
 * The request handler of the clients whose requests are the sweep's hot path: undici
 * (undici-handler.ts) with the same sockets and timeouts as common() gives the SDK's own handler.
 */
function undiciHandler(options: ClientOptions): UndiciHttpHandler {
  return new UndiciHttpHandler({
    connections: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
    connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  });
}

/**
 * A Scheduler client whose requests honour sendWithDepartureCheck (src/aws/departure.ts): the sweep's
 * delete gate checks its preconditions when a DeleteSchedule leaves, not when it was queued. Its
 * request handler is undici's (undici-handler.ts), for every path: sweep, census and create.
 */
export function createSchedulerClient(options: SchedulerClientOptions = {}): SchedulerClient {
  const config = { ...common(options), requestHandler: undiciHandler(options) };
  if (!options.leanRequestPath) return new SchedulerClient(config);
  if (options.maxAttempts !== 1) {
    throw new RangeError('The lean request path makes one attempt per send: it needs maxAttempts 1');
  }
  return new LeanSchedulerClient(config);
}

export const createCloudWatchClient = (options: ClientOptions = {}) => new CloudWatchClient(common(options));

export const createServiceQuotasClient = (options: ClientOptions = {}) =>
  new ServiceQuotasClient(common(options));

export const createLambdaClient = (options: ClientOptions = {}) => new LambdaClient(common(options));

export interface LeanClientOptions extends ClientOptions {
  /**
   * Send the delete gate's hot operations through the lean request path (lean.ts): DynamoDB's
   * BatchWriteItem and BatchGetItem (dynamodb-lean.ts), KMS's GenerateMac (kms-lean.ts). They are
   * retried by the client's own SDK retry strategy, as through `send`.
   */
  leanRequestPath?: boolean;
}

export const createDynamoDbClient = (options: LeanClientOptions = {}): DynamoDBClient =>
  options.leanRequestPath
    ? new LeanDynamoDBClient({ ...common(options), requestHandler: undiciHandler(options) })
    : new DynamoDBClient(common(options));

/** For the CloudFormation ownership reader: pass maxAttempts 1, its request budget owns retries. */
export const createCloudFormationClient = (options: ClientOptions = {}) =>
  new CloudFormationClient(common(options));

export const createKmsClient = (options: LeanClientOptions = {}): KMSClient =>
  options.leanRequestPath
    ? new LeanKMSClient({ ...common(options), requestHandler: undiciHandler(options) })
    : new KMSClient(common(options));
