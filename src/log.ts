// Structured JSON log lines, one per event, so CloudWatch Logs Insights can query them.

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

type Sink = (line: string) => void;

export function createLogger(
  sink: Sink = (line) => process.stdout.write(`${line}\n`),
  base: LogFields = {},
): Logger {
  const write = (level: string, message: string, fields?: LogFields) =>
    sink(
      JSON.stringify({ level, time: new Date().toISOString(), message, ...base, ...fields }, errorReplacer),
    );
  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

/** A logger that keeps lines in memory, for tests and the demo. */
export function createMemoryLogger(): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger((line) => lines.push(JSON.parse(line) as LogFields));
  return Object.assign(logger, { lines });
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Date) return value.toISOString();
  return value;
}
