// AWS client construction in one place: region, endpoint and retry settings.
// Endpoints follow the SDK's own rules (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SCHEDULER, ...), so the same
// code talks to AWS or to the local emulator; `endpoint` here overrides them for tests and scripts.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';

export interface ClientOptions {
  region?: string;
  /** Overrides every service endpoint (the emulator's base URL in tests and scripts). */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
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
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const CONNECTION_TIMEOUT_MS = 3_000;

function common(options: ClientOptions) {
  return {
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      // Without this the handler only logs a warning when the timeout passes.
      throwOnRequestTimeout: true,
    },
  };
}

export const createSchedulerClient = (options: ClientOptions = {}) => new SchedulerClient(common(options));

export const createCloudWatchClient = (options: ClientOptions = {}) => new CloudWatchClient(common(options));

export const createServiceQuotasClient = (options: ClientOptions = {}) =>
  new ServiceQuotasClient(common(options));

export const createLambdaClient = (options: ClientOptions = {}) => new LambdaClient(common(options));

export const createDynamoDbClient = (options: ClientOptions = {}) => new DynamoDBClient(common(options));
