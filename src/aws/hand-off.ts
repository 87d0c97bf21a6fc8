// Carrying long work on in a fresh invocation of the same Lambda function: the sweep and the census
// both stop before their deadline and invoke themselves asynchronously with a continuation payload.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** The part of the Lambda context a resumable function uses. */
export interface InvocationContext {
  getRemainingTimeInMillis?: () => number;
  functionName?: string;
}

/**
 * Beyond one invocation: the async hand-off, and Lambda's queue before the next invocation starts
 * (with reserved concurrency 1 it waits for this one to end). A lease must outlive both, or a
 * scheduled tick could start a second run in the gap.
 */
const HAND_OFF_ALLOWANCE_MS = 5 * 60_000;
/** Lambda's longest timeout, assumed when no context says how long this invocation has. */
const LONGEST_INVOCATION_MS = 15 * 60_000;
/**
 * After its deadline an invocation is gone: Lambda stops a function once its timeout has passed
 * (Lambda API reference, CreateFunction `Timeout`: "The amount of time (in seconds) that Lambda
 * allows a function to run before stopping it"; at most 900 s). A lease held for the invocation's
 * remaining time plus this margin (timer rounding, the time between reading the remaining time and
 * writing the lease) therefore expires soon after a killed holder's deadline. Clock differences
 * between hosts are allowed for by whoever takes the lease over (CLOCK_SKEW_BOUND_MS,
 * src/state/lease.ts).
 */
export const KILLED_HOLDER_MARGIN_MS = 60_000;

/** How long a lease taken now must last while this invocation runs: its remaining time plus the margin. */
export function invocationLeaseMs(context: InvocationContext | undefined): number {
  return (context?.getRemainingTimeInMillis?.() ?? LONGEST_INVOCATION_MS) + KILLED_HOLDER_MARGIN_MS;
}

/** How long a lease renewed at a hand-off must last: until the next invocation takes it over. */
export const HAND_OFF_LEASE_MS = HAND_OFF_ALLOWANCE_MS;

/** How long a lease taken now must last: the rest of this invocation plus the hand-off. */
export function leaseDurationMs(context: InvocationContext | undefined): number {
  return (context?.getRemainingTimeInMillis?.() ?? LONGEST_INVOCATION_MS) + HAND_OFF_ALLOWANCE_MS;
}

/** Queues an asynchronous invocation of `functionName` with the payload; throws if it was not queued. */
export function handOffTo<Payload>(lambda: LambdaClient, functionName: string) {
  return async (payload: Payload): Promise<void> => {
    const response = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: JSON.stringify(payload),
      }),
    );
    // Lambda queues an Event invocation with 202; anything else means it was not queued.
    if (response.StatusCode !== 202)
      throw new Error(`Lambda answered ${response.StatusCode} to the hand-off`);
  };
}
