// Lambda Invoke for the emulator (REST-JSON, POST /2015-03-31/functions/{FunctionName}/invocations).
// It records every invocation so tests can see, for example, the sweeper handing its work on to a
// fresh invocation; a test may register a handler to answer synchronous invocations.
import {
  AwsError,
  type ControlPlane,
  type EmulatedService,
  renderRenamedError,
  unknownControl,
} from './core.ts';

const OWN_ERROR_NAMES = {
  ThrottlingException: 'TooManyRequestsException',
  InternalServerException: 'ServiceException',
};

const invokePath = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
// Stricter than AWS's current async limit on purpose: a continuation payload should stay small.
const eventPayloadLimit = 256 * 1024;
const requestResponsePayloadLimit = 6 * 1024 * 1024;

export const invocationTypes = ['Event', 'RequestResponse', 'DryRun'] as const;
export type InvocationType = (typeof invocationTypes)[number];

export interface Invocation {
  /** Function name, with any ARN prefix and qualifier stripped. */
  functionName: string;
  /** The identifier as the caller sent it (name, partial or full ARN). */
  functionReference: string;
  qualifier?: string;
  invocationType: InvocationType;
  /** The payload parsed as JSON; undefined when the body was empty. */
  payload: unknown;
  at: Date;
  /** A second delivery of the same asynchronous invocation (the fault model's `duplicate`). */
  duplicate?: boolean;
}

export type InvocationHandler = (payload: unknown, invocation: Invocation) => unknown;

export interface LambdaService extends EmulatedService {
  invocations(): Invocation[];
  /** Returns the recorded invocations and forgets them. */
  takeInvocations(): Invocation[];
  /** Answers RequestResponse invocations of this function with the handler's result; a throw becomes a function error. */
  setHandler(functionName: string, handler: InvocationHandler | undefined): void;
  reset(): void;
}

export function createLambdaService(plane: ControlPlane): LambdaService {
  let recorded: Invocation[] = [];
  const handlers = new Map<string, InvocationHandler>();

  const service: LambdaService = {
    name: 'lambda',
    identify(request) {
      return request.method === 'POST' && invokePath.test(request.path) ? 'Invoke' : undefined;
    },
    async handle(_operation, request) {
      const reference = decodeURIComponent(invokePath.exec(request.path)?.[1] ?? '');
      const { functionName, qualifier: arnQualifier } = parseFunctionReference(reference);
      const qualifier = request.query.get('Qualifier') ?? arnQualifier;
      const rawType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (!(invocationTypes as readonly string[]).includes(rawType)) {
        throw new AwsError(
          'InvalidParameterValueException',
          400,
          `1 validation error detected: Value '${rawType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
        );
      }
      const invocationType = rawType as InvocationType;
      const limit = invocationType === 'Event' ? eventPayloadLimit : requestResponsePayloadLimit;
      if (request.body.length > limit) {
        throw new AwsError(
          'RequestTooLargeException',
          413,
          `Request must be smaller than ${limit} bytes for the ${invocationType} invocation type`,
        );
      }
      let payload: unknown;
      if (request.body.length > 0) {
        try {
          payload = JSON.parse(request.body.toString('utf8'));
        } catch {
          throw new AwsError('InvalidRequestContentException', 400, 'Could not parse request body into json');
        }
      }
      const invocation: Invocation = {
        functionName,
        functionReference: reference,
        ...(qualifier ? { qualifier } : {}),
        invocationType,
        payload,
        at: plane.now(),
      };
      recorded.push(invocation);
      // Asynchronous delivery is at least once: the fault model may deliver an Event invoke twice.
      if (invocationType === 'Event' && request.duplicate) recorded.push({ ...invocation, duplicate: true });
      const versionHeader = { 'x-amz-executed-version': qualifier ?? '$LATEST' };
      if (invocationType === 'DryRun') return { status: 204, headers: versionHeader };
      if (invocationType === 'Event') return { status: 202 };
      const handler = handlers.get(functionName);
      if (!handler) return { status: 200, headers: versionHeader, body: null };
      try {
        const result = await handler(payload, invocation);
        return { status: 200, headers: versionHeader, body: result ?? null };
      } catch (error) {
        // A function that throws still answers 200; the SDK reports it through FunctionError.
        const failure = error instanceof Error ? error : new Error(String(error));
        return {
          status: 200,
          headers: { ...versionHeader, 'x-amz-function-error': 'Unhandled' },
          body: { errorType: failure.name, errorMessage: failure.message },
        };
      }
    },
    // Lambda names throttling and internal failures its own way.
    renderError: (error) => renderRenamedError(error, OWN_ERROR_NAMES),
    control(action) {
      if (action === 'invocations') return { invocations: service.invocations() };
      if (action === 'takeInvocations') return { invocations: service.takeInvocations() };
      if (action === 'reset') {
        service.reset();
        return { reset: true };
      }
      throw unknownControl(`Unknown lambda control ${action}`);
    },
    invocations: () => [...recorded],
    takeInvocations() {
      const taken = recorded;
      recorded = [];
      return taken;
    },
    setHandler(functionName, handler) {
      if (handler) handlers.set(functionName, handler);
      else handlers.delete(functionName);
    },
    reset() {
      recorded = [];
      handlers.clear();
    },
  };
  return service;
}

/** Accepts `name`, `name:qualifier`, `123456789012:function:name` and full ARNs, as Lambda does. */
function parseFunctionReference(reference: string): { functionName: string; qualifier?: string } {
  const arn =
    /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$/.exec(
      reference,
    );
  if (!arn?.[1]) {
    throw new AwsError(
      'ValidationException',
      400,
      `1 validation error detected: Value '${reference}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern`,
    );
  }
  return arn[2] ? { functionName: arn[1], qualifier: arn[2] } : { functionName: arn[1] };
}
