// The create Lambda: other services invoke it with a JSON payload to schedule a future event for a
// target. Thin: strict payload check and wiring; the rules live in src/create/.
import { createSchedulerClient } from '../aws/clients.ts';
import { readCreateConfig } from '../create/config.ts';
import {
  type CreateDeps,
  type CreatedSchedule,
  createOneTimeSchedule,
  createRecurringSchedule,
} from '../create/create.ts';
import type { CreateInput, RecurringInput, ScheduleDefaults } from '../create/plan.ts';
import { withSchedulerRoleArn } from '../create/role.ts';
import { addLambdaContext, createLogger, type Logger } from '../log.ts';
import { safeError } from '../redact.ts';

export interface CreateHandlerDeps extends CreateDeps {
  defaults: ScheduleDefaults;
  log: Logger;
}

/**
 * Builds the handler around injected deps. A payload with `expression` asks for a recurring schedule
 * (endDate required); any other payload is one-time. Unknown keys are rejected by name.
 */
export function createCreateHandler(deps: CreateHandlerDeps) {
  return async (event: unknown): Promise<CreatedSchedule> => {
    const recurring = event !== null && typeof event === 'object' && 'expression' in event;
    try {
      const created = recurring
        ? await createRecurringSchedule(deps, event as RecurringInput, deps.defaults)
        : await createOneTimeSchedule(deps, event as CreateInput, deps.defaults);
      deps.log.info('schedule created', { ...created });
      return created;
    } catch (error) {
      deps.log.warn('schedule not created', { error: safeError(error) });
      throw error;
    }
  };
}

let wired: ((event: unknown) => Promise<CreatedSchedule>) | undefined;
const log = createLogger(undefined, { function: 'create' });

/** Lambda's context: the function's own ARN gives the execution role's partition and account. */
interface InvocationContext {
  invokedFunctionArn?: string;
}

export const handler = async (event: unknown, context?: unknown): Promise<CreatedSchedule> => {
  addLambdaContext(log, context);
  const invokedFunctionArn = (context as InvocationContext | undefined)?.invokedFunctionArn;
  if (!wired) {
    // Configuration first: an error in it ends the invocation before any client exists.
    const defaults = readCreateConfig(withSchedulerRoleArn(process.env, invokedFunctionArn));
    wired = createCreateHandler({
      scheduler: createSchedulerClient(),
      clock: () => new Date(),
      defaults,
      log,
    });
  }
  return wired(event);
};
