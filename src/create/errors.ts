// Errors of the create path: what AWS answered, turned into a message the caller can act on.
// Input problems are InputError (src/errors.ts) and are raised before any request is sent.
import { isNotFound, isThrottling, isTransient } from '../aws/budget.ts';
import { HygieneError } from '../errors.ts';
import { safeError } from '../redact.ts';

export const CreateFailure = {
  nameTaken: 'name-taken',
  quotaFull: 'quota-full',
  invalid: 'invalid',
  accessDenied: 'access-denied',
  groupMissing: 'group-missing',
  idempotencyMismatch: 'idempotency-mismatch',
  unavailable: 'unavailable',
} as const;

export type CreateFailureReason = (typeof CreateFailure)[keyof typeof CreateFailure];

/**
 * CreateSchedule failed on the AWS side; `reason` says which way. `cause` keeps what a log line may
 * say of the SDK error (safeError: name, code, status, its message with any echoed target value cut
 * out), never the SDK error itself: AWS's ValidationException echoes the offending value, which may
 * be the target's input, and the Lambda runtime logs a thrown error with its cause.
 */
export class CreateScheduleError extends HygieneError {
  constructor(
    readonly reason: CreateFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: safeError(options.cause) });
  }
}

export interface CreateContext {
  name: string;
  groupName: string;
  roleArn: string;
}

/** Maps an SDK error from CreateSchedule to a CreateScheduleError with a message that says what to do. */
export function mapCreateError(error: unknown, context: CreateContext): CreateScheduleError {
  const name = (error as { name?: string })?.name ?? '';
  // AWS's validation wording may echo the target's input: cut out, as in every log line.
  const awsMessage = safeError(error).message;
  const where = `schedule '${context.name}' in group '${context.groupName}'`;
  if (name === 'ConflictException') {
    return new CreateScheduleError(
      CreateFailure.nameTaken,
      `Cannot create ${where}: the name is taken. Pass a different namePrefix or businessId, or pass an idempotencyKey so that retries return the existing schedule`,
      { cause: error },
    );
  }
  if (name === 'ServiceQuotaExceededException') {
    return new CreateScheduleError(
      CreateFailure.quotaFull,
      `Cannot create ${where}: the account's schedule quota is full: run the sweeper (sls invoke -f sweep) to remove finished one-time schedules, check the QuotaUtilization alarms, or request a quota increase`,
      { cause: error },
    );
  }
  if (name === 'ValidationException') {
    return new CreateScheduleError(CreateFailure.invalid, `Scheduler rejected ${where}: ${awsMessage}`, {
      cause: error,
    });
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CreateScheduleError(
      CreateFailure.accessDenied,
      `Access denied creating ${where}: the caller needs scheduler:CreateSchedule on the group's schedules and iam:PassRole on '${context.roleArn}' (with iam:PassedToService scheduler.amazonaws.com). AWS said: ${awsMessage}`,
      { cause: error },
    );
  }
  if (isNotFound(error)) {
    return new CreateScheduleError(
      CreateFailure.groupMissing,
      `Cannot create ${where}: the schedule group does not exist. Deploy the stack (it owns the group) or pass the groupName of an existing group`,
      { cause: error },
    );
  }
  if (isThrottling(error) || isTransient(error)) {
    return new CreateScheduleError(
      CreateFailure.unavailable,
      `Scheduler did not accept ${where} (${name || 'network error'}: ${awsMessage}). Retry later; pass an idempotencyKey so a retry cannot create a second schedule`,
      { cause: error },
    );
  }
  return new CreateScheduleError(
    CreateFailure.invalid,
    `CreateSchedule failed for ${where}: ${name ? `${name}: ` : ''}${awsMessage}`,
    { cause: error },
  );
}
