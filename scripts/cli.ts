// One way to read a script's command line: node:util parseArgs in strict mode (an unknown option,
// a missing value, a stray positional or an option given twice is an error naming it), and numbers read by the same plain
// decimal grammar as the environment (src/validate.ts): '1e3', '0x10', ' 5' or '+5' are refused.
// And one way to end: runTool gives every tool the same --help, exit codes and one-line errors.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { clip, InputError } from '../src/errors.ts';
import { safeError } from '../src/redact.ts';
import { DECIMAL_INTEGER, DECIMAL_NUMBER, wholeNumberForm } from '../src/validate.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** A command-line argument that is not one of the script's options. */
export class UnknownArgumentError extends InputError {
  constructor(argument: string, expected: string) {
    super('argument', expected, argument);
    this.message = `Unknown argument '${clip(argument)}'; expected ${expected}`;
  }
}

/**
 * Parses `argv` against `options`. Errors are InputErrors naming the option (`--port`) or, for an
 * argument that is no option, UnknownArgumentError listing the options there are. An option given
 * twice is refused unless it is declared `multiple`.
 */
export function parseCommandLine<const O extends OptionSpec>(argv: readonly string[], options: O) {
  let parsed: ReturnType<
    typeof parseArgs<{ options: O; strict: true; allowPositionals: false; tokens: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const names = Object.keys(options).map((name) => `--${name}`);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      // Node names the argument in quotes: "Unknown option '--dry-run'", "Unexpected argument '5'".
      const argument = /'(.*?)'/s.exec((error as Error).message)?.[1] ?? String(error);
      throw new UnknownArgumentError(argument, `one of ${names.join(', ')}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = names.find((option) => (error as Error).message.includes(`'${option}`)) ?? 'argument';
      const type = options[name.slice(2)]?.type;
      if (type === 'boolean') throw new InputError(name, 'no value (it is a switch)');
      // parseArgs reads a value that starts with '-' ('--schedules -5') as the next option.
      const index = argv.indexOf(name);
      const next = index >= 0 ? argv[index + 1] : undefined;
      if (next?.startsWith('-') && !names.includes(next.split('=')[0] ?? '')) {
        throw new InputError(name, `a value after it ('${next}' reads as an option: write ${name}=${next})`);
      }
      throw new InputError(name, 'a value after it');
    }
    throw error;
  }
  // parseArgs keeps the last of a repeated option: '--group a --group b' would quietly mean b.
  // An option given twice (unless it is declared `multiple`) is refused instead.
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || options[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) throw new InputError(`--${token.name}`, 'at most once (it was given twice)');
    seen.add(token.name);
  }
  return parsed.values;
}

/** A whole number in [min, max] written in plain decimal digits, or an InputError naming `option`. */
export function readWholeNumber(option: string, text: string, min: number, max: number, unit = ''): number {
  const expected = unit ? `a whole number of ${unit} from ${min} to ${max}` : wholeNumberForm(min, max);
  const value = Number(text);
  if (!DECIMAL_INTEGER.test(text) || value < min || value > max) throw new InputError(option, expected, text);
  return value;
}

/** A number in [min, max] written in plain decimal digits with an optional fraction ('2.5'). */
export function readDecimal(option: string, text: string, min: number, max: number, unit = ''): number {
  const expected = `a number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`;
  const value = Number(text);
  if (!DECIMAL_NUMBER.test(text) || value < min || value > max) throw new InputError(option, expected, text);
  return value;
}

/** Every tool's `--help` (and `-h`): its usage on stdout, exit 0. Spread into a tool's options. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** The exit codes every tool shares. */
export const ExitCode = {
  /** Done (for a check: it passed). */
  ok: 0,
  /** It ran and failed, or found what it checks for broken; one line on stderr says what. */
  failed: 1,
  /** The command line is not understood: one line on stderr names the option; nothing was done. */
  usage: 2,
} as const;

/** Where a tool writes; the process's own streams unless a test passes its own. */
export interface ToolIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const processIo: ToolIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
};

/**
 * The line a tool prints for a command line it does not understand: `error: ` and the InputError's
 * message (or `message`, the same with more said), and for an unknown argument where the usage is.
 */
export function usageErrorLine(tool: string, error: InputError, message = error.message): string {
  const hint = error instanceof UnknownArgumentError ? ` (usage: npm run ${tool} -- --help)` : '';
  return `error: ${oneLine(message)}${hint}`;
}

/**
 * The line a tool prints for any other failure: `error: <name> [<code>]: <message>`, bounded and
 * with the values AWS echoes cut (safeError); with DEBUG set in the environment, the stack follows.
 */
export function failureLines(error: unknown, env: Record<string, string | undefined> = process.env): string {
  const { name, message, code } = safeError(error);
  const line = `error: ${name}${code && code !== name ? ` ${code}` : ''}: ${oneLine(message) || '(no message)'}`;
  return debugging(env) && error instanceof Error && error.stack ? `${line}\n${error.stack}` : line;
}

/** DEBUG set to anything but '' , '0' or 'false' shows a failure's stack. */
function debugging(env: Record<string, string | undefined>): boolean {
  const value = env.DEBUG;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Runs a tool as its process: `main` returns the exit code, or throws. An InputError is a command line
 * not understood (exit 2, usageErrorLine); anything else a failure (exit 1, failureLines). The exit
 * code is set, the streams drain, and a handle something left open cannot keep the process alive
 * beyond a second.
 */
export function runTool(
  tool: string,
  main: (argv: string[], io: ToolIo) => Promise<number>,
  io: ToolIo = processIo,
): void {
  const finish = (code: number) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 1_000).unref();
  };
  main(process.argv.slice(2), io).then(finish, (error: unknown) => {
    if (error instanceof InputError) {
      io.stderr(usageErrorLine(tool, error));
      finish(ExitCode.usage);
    } else {
      io.stderr(failureLines(error, io.env));
      finish(ExitCode.failed);
    }
  });
}
