// The lean request path (lean.ts) for the sweep's three hot Scheduler operations: GetSchedule,
// DeleteSchedule and ListSchedules. The sweeper's CPU per request about halves (docs/scale.md: 0.69 ms
// through `send`, 0.37 ms here, side by side). Successful answers are read with a reader compiled
// from the SDK's schema. It makes one attempt per send: the sweeper's request budgets own retries.
import {
  DeleteSchedule$,
  DeleteScheduleCommand,
  GetSchedule$,
  GetScheduleCommand,
  ListSchedules$,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { parseEpochTimestamp } from '@smithy/core/serde';
import { LeanRequestPath, type Reader } from './lean.ts';

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
  private readonly leanPath = new LeanRequestPath(
    this,
    [
      { schema: GetSchedule$, command: GetScheduleCommand, read: compileReader(GetSchedule$[5]) },
      { schema: DeleteSchedule$, command: DeleteScheduleCommand, read: compileReader(DeleteSchedule$[5]) },
      { schema: ListSchedules$, command: ListSchedulesCommand, read: compileReader(ListSchedules$[5]) },
    ],
    'one attempt',
  );

  // biome-ignore lint/suspicious/noExplicitAny: overrides every overload of Client.send at once.
  override send(command: any, optionsOrCallback?: any, callback?: any): any {
    return this.leanPath.route(command, optionsOrCallback, callback, () =>
      super.send(command, optionsOrCallback, callback),
    );
  }
}
