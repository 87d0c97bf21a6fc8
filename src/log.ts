// Structured JSON log lines, one per event, written by Powertools for AWS Lambda's Logger: the
// request id and cold start when a handler adds its Lambda context, the log level from the
// environment (POWERTOOLS_LOG_LEVEL, or AWS_LAMBDA_LOG_LEVEL with advanced logging controls; INFO
// by default), the service name (POWERTOOLS_SERVICE_NAME, default schedule-hygiene) and persistent
// keys. The core only sees the small Logger interface, so tests and scripts inject their own sink.
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A logger a handler can tell which invocation it serves (request id, cold start). */
export interface FunctionLogger extends Logger {
  /** Adds the Lambda context's request id, function name and cold start to every later line. */
  addContext(context: Context): void;
}

type Sink = (line: string) => void;

/**
 * The one place an error becomes log fields, whatever logs it and wherever it sits in a line: its
 * name and message only. Never the SDK's raw response, request parameters or any other property:
 * those may carry a schedule's Target.Input, which may hold customer secrets.
 */
export function serializeError(error: Error): LogAttributes {
  return { name: error.name, message: error.message };
}

/**
 * Powertools' standard keys (timestamp, service, cold_start, function_request_id, ...; Powertools
 * keeps its own formatter private, so they are listed here as its PowertoolsLogFormatter lists
 * them), with two choices kept from this project's earlier logger: the level in lower case
 * ("info"), which log queries filter on, and errors through serializeError.
 */
class HygieneLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel.toLowerCase(),
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: context?.coldStart,
        function_arn: context?.invokedFunctionArn,
        function_memory_size: context?.memoryLimitInMB,
        function_name: context?.functionName,
        function_request_id: context?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additional);
  }

  override formatError(error: Error): LogAttributes {
    return serializeError(error);
  }
}

const SERVICE_NAME = 'schedule-hygiene';

/**
 * Fields in a form Powertools' merge keeps whole. It drops the keys `__proto__` and `constructor`
 * (its guard against prototype pollution), and schedule groups may carry those names: every
 * null-prototype map (the project's maps keyed by group, e.g. scheduleCounts.byGroup) is logged as
 * its entries, `[[key, value], ...]`, at any depth. Other values pass through as they are.
 */
export function survivable(fields: LogFields): LogAttributes {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, walk(value)]),
  ) as LogAttributes;
}

function walk(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(walk);
  if (typeof value !== 'object' || value === null) return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === null) return Object.entries(value).map(([key, item]) => [key, walk(item)]);
  if (prototype !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
}

/**
 * A logger writing each JSON line to `sink` (stdout by default). `persistentKeys` appear in every
 * line, e.g. { function: 'census' }.
 */
export function createLogger(
  sink: Sink = (line) => process.stdout.write(`${line}\n`),
  persistentKeys: LogFields = {},
): FunctionLogger {
  const logger = new PowertoolsLogger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
    logFormatter: new HygieneLogFormatter(),
    persistentKeys,
  });
  // Powertools prints each line with one call to its console's method for the level. Pointing
  // those methods at the sink keeps every level on one stream (as before), lets tests and the demo
  // capture lines, and skips a Console and a stream per line. The field is private in Powertools'
  // types; test/log.test.ts fails if an upgrade moves it.
  const print = (line: string) => sink(line);
  (logger as unknown as { console: Record<string, (line: string) => void> }).console = {
    trace: print,
    debug: print,
    info: print,
    warn: print,
    error: print,
    log: print,
  };
  return {
    info: (message, fields) => (fields ? logger.info(message, survivable(fields)) : logger.info(message)),
    warn: (message, fields) => (fields ? logger.warn(message, survivable(fields)) : logger.warn(message)),
    error: (message, fields) => (fields ? logger.error(message, survivable(fields)) : logger.error(message)),
    addContext: (context) => logger.addContext(context),
  };
}

/**
 * Adds a Lambda context to the logger when it is one (has a request id): `sls invoke local` and
 * tests pass partial contexts, which add nothing.
 */
export function addLambdaContext(log: FunctionLogger, context: unknown): void {
  if (
    typeof context === 'object' &&
    context !== null &&
    typeof (context as Context).awsRequestId === 'string'
  ) {
    log.addContext(context as Context);
  }
}

/** A logger that keeps lines in memory, for tests and the demo. */
export function createMemoryLogger(): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger((line) => lines.push(JSON.parse(line) as LogFields));
  return Object.assign(logger, { lines });
}
