// The example target Scheduler invokes: it logs that it was invoked and returns the event, so a first
// deploy and the demo show an end-to-end invocation. The event is the schedule's Target.Input, which
// may hold customer secrets: the log line carries only its size and SHA-256, never its content.
import { addLambdaContext, createLogger, type Logger } from '../log.ts';
import { fingerprint } from '../redact.ts';

export function createTargetHandler(log: Logger) {
  return async (event: unknown): Promise<unknown> => {
    log.info('target invoked', { event: fingerprint(event) });
    return event;
  };
}

const log = createLogger(undefined, { function: 'target' });
const target = createTargetHandler(log);

export const handler = (event: unknown, context?: unknown): Promise<unknown> => {
  addLambdaContext(log, context);
  return target(event);
};
