// The example target Scheduler invokes: it logs the event it receives as one JSON line and returns
// it, so a first deploy and the demo show an end-to-end invocation.
import { addLambdaContext, createLogger, type Logger } from '../log.ts';

export function createTargetHandler(log: Logger) {
  return async (event: unknown): Promise<unknown> => {
    log.info('target invoked', { event });
    return event;
  };
}

const log = createLogger(undefined, { function: 'target' });
const target = createTargetHandler(log);

export const handler = (event: unknown, context?: unknown): Promise<unknown> => {
  addLambdaContext(log, context);
  return target(event);
};
