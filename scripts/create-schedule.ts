// Operator CLI for the create path: creates one schedule (always ActionAfterCompletion DELETE) and
// prints its name and ARN as JSON. A command line it does not understand: one line on stderr, exit
// code 2, and nothing is created; a failure on the AWS side (or any other): one line, exit code 1.
//   npm run create-schedule -- --at 2026-12-01T09:00:00 --zone Europe/Berlin \
//     --target arn:aws:lambda:us-east-1:123456789012:function:my-target --input '{"orderId":"42"}'
// Group and role default to CREATE_SCHEDULE_GROUP and SCHEDULER_ROLE_ARN (the stack's outputs).
import { pathToFileURL } from 'node:url';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { createSchedulerClient } from '../src/aws/clients.ts';
import { createOneTimeSchedule, createRecurringSchedule } from '../src/create/create.ts';
import type { CreateInput, RecurringInput } from '../src/create/plan.ts';
import { InputError } from '../src/errors.ts';
import { DECIMAL_INTEGER } from '../src/validate.ts';
import { ExitCode, failureLines, HELP_OPTION, parseCommandLine, usageErrorLine } from './cli.ts';

/** Each option and the library field it fills, so an error about a field can name the option too. */
const options = {
  at: { field: 'at', kind: 'string' },
  zone: { field: 'timezone', kind: 'string' },
  'run-at': { field: 'runAt', kind: 'string' },
  target: { field: 'targetArn', kind: 'string' },
  input: { field: 'input', kind: 'json' },
  'flexible-window': { field: 'flexibleWindowMinutes', kind: 'number' },
  'max-event-age': { field: 'retry.maximumEventAgeSeconds', kind: 'number' },
  'max-retries': { field: 'retry.maximumRetryAttempts', kind: 'number' },
  dlq: { field: 'deadLetterArn', kind: 'string' },
  group: { field: 'groupName', kind: 'string' },
  role: { field: 'roleArn', kind: 'string' },
  prefix: { field: 'namePrefix', kind: 'string' },
  'business-id': { field: 'businessId', kind: 'string' },
  'idempotency-key': { field: 'idempotencyKey', kind: 'string' },
  description: { field: 'description', kind: 'string' },
  expression: { field: 'expression', kind: 'string' },
  'start-date': { field: 'startDate', kind: 'string' },
  'end-date': { field: 'endDate', kind: 'string' },
} as const;

type OptionName = keyof typeof options;

const usage = `Usage: npm run create-schedule -- --target <arn> (--at yyyy-mm-ddThh:mm:ss [--zone <IANA zone>] | --run-at <ISO instant>)
  [--input <JSON>] [--flexible-window <minutes>] [--max-event-age <seconds>] [--max-retries <n>] [--dlq <sqs arn>]
  [--group <name>] [--role <arn>] [--prefix <text> | --business-id <id>] [--idempotency-key <key>] [--description <text>]
  Recurring: --expression 'rate(1 day)'|'cron(...)' --end-date <ISO instant> [--start-date <ISO instant>] [--zone <zone>]
Group and role default to CREATE_SCHEDULE_GROUP and SCHEDULER_ROLE_ARN.`;

export interface CliIo {
  env?: Record<string, string | undefined>;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Tests inject a client; otherwise one is built from the environment (AWS_ENDPOINT_URL_SCHEDULER, ...). */
  scheduler?: SchedulerClient;
  clock?: () => Date;
}

/** Runs the CLI; returns the exit code (0 created, 1 failed, 2 a command line not understood). */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((text) => process.stdout.write(`${text}\n`));
  const stderr = io.stderr ?? ((text) => process.stderr.write(`${text}\n`));
  try {
    const parsed = parseCommandLine(argv, {
      ...Object.fromEntries(Object.keys(options).map((name) => [name, { type: 'string' as const }])),
      ...HELP_OPTION,
    });
    const values = parsed as Record<string, string | undefined> & { help?: boolean };
    if (values.help) {
      stdout(usage);
      return ExitCode.ok;
    }
    const input = buildInput(values);
    const defaults = {
      groupName: readDefault(values.group, env.CREATE_SCHEDULE_GROUP, 'group', 'CREATE_SCHEDULE_GROUP'),
      roleArn: readDefault(values.role, env.SCHEDULER_ROLE_ARN, 'role', 'SCHEDULER_ROLE_ARN'),
    };
    const deps = {
      scheduler: io.scheduler ?? createSchedulerClient(),
      clock: io.clock ?? (() => new Date()),
    };
    // The library checks every field at run time; the options map only decides which fields exist.
    const created =
      input.expression === undefined
        ? await createOneTimeSchedule(deps, input as unknown as CreateInput, defaults)
        : await createRecurringSchedule(deps, input as unknown as RecurringInput, defaults);
    stdout(JSON.stringify(created, null, 2));
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof InputError)) {
      // An SDK or create-path error: its name and bounded message (safeError), never its raw response.
      stderr(failureLines(error, env));
      return ExitCode.failed;
    }
    stderr(usageErrorLine('create-schedule', error, withOption(error)));
    return ExitCode.usage;
  }
}

function buildInput(values: Record<string, string | undefined>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const retry: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(options) as [OptionName, (typeof options)[OptionName]][]) {
    const text = values[name];
    if (text === undefined || name === 'group' || name === 'role') continue;
    const value = option.kind === 'json' ? parseJson(text) : option.kind === 'number' ? toNumber(text) : text;
    if (option.field.startsWith('retry.')) retry[option.field.slice('retry.'.length)] = value;
    else input[option.field] = value;
  }
  if (Object.keys(retry).length > 0) input.retry = retry;
  return input;
}

function readDefault(
  flag: string | undefined,
  fromEnv: string | undefined,
  option: string,
  variable: string,
) {
  // Unset and '' mean "not given", as for the functions' own environment (src/config.ts).
  const value = flag ?? (fromEnv === '' ? undefined : fromEnv);
  if (value === undefined)
    throw new InputError(`--${option}`, `a value here or ${variable} in the environment`);
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The value is never echoed (it may hold a secret): InputError shows its size and SHA-256 only.
    throw new InputError('input', 'JSON text, e.g. \'{"orderId":"42"}\'', text);
  }
}

/**
 * Plain decimal digits become a number; anything else ('5.0', ' 5', '1e3') stays text, so the
 * library refuses it and the error shows what was typed.
 */
function toNumber(text: string): number | string {
  return DECIMAL_INTEGER.test(text) ? Number(text) : text;
}

/** The error's message with the option that sets its field named too: 'Invalid input: ... (option --input)'. */
function withOption(error: InputError): string {
  const option = Object.entries(options).find(([, spec]) => spec.field === error.field)?.[0];
  return option ? `${error.message} (option --${option})` : error.message;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
