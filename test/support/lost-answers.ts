// A fault that strikes AFTER a request takes effect: the emulator applies the request, then the
// client never sees the answer (as with a connection reset or a timeout past the write). The fault
// is injected inside the SDK's retry loop, so the SDK's own retries run exactly as they would on AWS.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface LostAnswer {
  /** SDK command name, e.g. 'UpdateItemCommand'. */
  command: string;
  /** Which of the matching requests lose their answer, counting from 1 (every one when undefined). */
  occurrences?: number[];
  /** Only requests whose input passes this test count as matching. */
  when?: (input: Record<string, unknown>) => boolean;
}

/** Adds lost answers to `client` (the requests still reach the emulator and are applied). */
export function loseAnswers(client: DynamoDBClient, faults: LostAnswer[]): { lost: () => number } {
  const seen = new Map<LostAnswer, number>();
  let lost = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      const input = args.input as Record<string, unknown>;
      for (const fault of faults) {
        if (fault.command !== context.commandName || !(fault.when?.(input) ?? true)) continue;
        const occurrence = (seen.get(fault) ?? 0) + 1;
        seen.set(fault, occurrence);
        if (fault.occurrences === undefined || fault.occurrences.includes(occurrence)) {
          lost += 1;
          // What the SDK sees when the connection drops after the request was sent: it retries.
          throw Object.assign(new Error('socket hang up (answer lost after the write applied)'), {
            name: 'TimeoutError',
            code: 'ECONNRESET',
            $metadata: {},
          });
        }
      }
      return output;
    },
    // Inside the retry middleware (finalizeRequest), so each attempt can lose its answer.
    { step: 'deserialize', name: 'loseAnswersAfterEffect', priority: 'high' },
  );
  return { lost: () => lost };
}

/** Matches requests on the item whose partition key `pk` is `key`. */
export const onItem =
  (key: string) =>
  (input: Record<string, unknown>): boolean =>
    ((input.Key ?? input.Item) as { pk?: { S?: string } } | undefined)?.pk?.S === key;
