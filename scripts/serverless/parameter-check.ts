// A local Serverless plugin: `sls package` and `sls deploy` refuse a parameter value that a function
// would refuse at cold start (`--param="sweepGraceMinutes=20000"`), before anything is built or sent,
// with the message `npm run stackset -- deploy` gives for the same value. It builds each function's
// environment as osls packages it (provider.environment, then the function's own, resolved) and runs
// the reader the handler runs at cold start (src/org/stackset-environment.ts): no bound is copied.
// A param that is the default of a CloudFormation parameter of resources/ (LogRetentionDays) is
// checked against that parameter's own constraints, which CloudFormation would enforce at deploy.
// Loaded through parameter-check.mjs, since osls loads a local plugin with require()/import().
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Env } from '../../src/config.ts';
import { InputError } from '../../src/errors.ts';
import { checkFunctionEnvironment, type FunctionEnvironment } from '../../src/org/stackset-environment.ts';

/**
 * Set by `npm run stackset -- package`, which packages with a placeholder for every parameter (no
 * function could read one); `stackset deploy` then checks each real value with the same readers.
 */
export const PLACEHOLDERS_VARIABLE = 'SCHEDULE_HYGIENE_PARAMETER_PLACEHOLDERS';

/** The parts of a resolved osls function definition this check reads. */
interface ServiceFunction {
  handler?: string;
  environment?: Record<string, unknown>;
}

/** What the check needs from the Serverless instance, as plain values. */
export interface ServiceView {
  /** The resolved functions by name (`serverless.service.functions`). */
  functions: Record<string, ServiceFunction>;
  /** The resolved `provider.environment`. */
  providerEnvironment: Record<string, unknown>;
  region: string;
  /** serverless.yml as written: each variable's `${param:...}` sources are read from it. */
  rawConfig: unknown;
  /** The `--param` options as given (`name=value`). */
  cliParams: readonly string[];
  /** The function's CloudFormation logical id, for errors about the package itself. */
  logicalId: (name: string) => string;
  /** The resolved CloudFormation Parameters the resources/ files declare (`service.resources.Parameters`). */
  templateParameters?: Record<string, TemplateParameterView>;
  /** The resources/ files as written, each parsed: which param each Parameter's Default is. */
  rawResources?: unknown[];
}

/** The constraints of a CloudFormation parameter that CloudFormation checks a value against. */
export interface TemplateParameterView {
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinValue?: number | string;
  MaxValue?: number | string;
  MinLength?: number | string;
  MaxLength?: number | string;
  ConstraintDescription?: string;
}

/** `${param:name}` and `${param:name, fallback}` in a value as written. */
const PARAM_REFERENCE = /\$\{param:([A-Za-z0-9_-]+)\s*(?:,[^}]*)?\}/g;

/**
 * Each function's environment as packaged (the provider's variables, then the function's own,
 * which win, as osls merges them), with the parameters each variable is written from.
 */
export function serviceEnvironments(service: ServiceView): FunctionEnvironment[] {
  const raw = (service.rawConfig ?? {}) as {
    provider?: { environment?: Record<string, unknown> };
    functions?: Record<string, { environment?: Record<string, unknown> } | null>;
  };
  const environments: FunctionEnvironment[] = [];
  for (const [name, fn] of Object.entries(service.functions)) {
    const written = { ...raw.provider?.environment, ...raw.functions?.[name]?.environment };
    const env: Env = {};
    const sources: Record<string, string[]> = {};
    for (const [variable, value] of Object.entries({ ...service.providerEnvironment, ...fn.environment })) {
      // osls leaves out a variable whose value resolves to nothing; CloudFormation takes the rest as text.
      if (value === null || value === undefined) continue;
      env[variable] = String(value);
      const uses = [...String(written[variable] ?? '').matchAll(PARAM_REFERENCE)].map(
        (match) => match[1] ?? '',
      );
      if (uses.length > 0) sources[variable] = uses;
    }
    environments.push({ logicalId: service.logicalId(name), handler: fn.handler ?? '', env, sources });
  }
  return environments;
}

/** The `--param` values by name, read as osls reads them (`<name>=<value>`, the value's end trimmed). */
export function cliParamValues(cliParams: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const item of cliParams) {
    const match = /^([^=]+)=(.+)$/s.exec(item);
    if (match?.[1] && match[2] !== undefined) values[match[1]] = match[2].trimEnd();
  }
  return values;
}

/**
 * Runs every function's cold-start reader over its packaged environment. Throws InputError
 * `Invalid --param <name>: expected a value the <function> function accepts as <VARIABLE>: ...` for
 * a refused value, and a plain Error when a refused value comes from no parameter.
 */
export function checkServiceParameters(service: ServiceView): void {
  const values = cliParamValues(service.cliParams);
  for (const fn of serviceEnvironments(service))
    checkFunctionEnvironment(fn, values, service.region, '--param');
  checkTemplateParameters(service);
}

/**
 * Checks each param that is the Default of a CloudFormation parameter against that parameter's
 * AllowedValues, AllowedPattern (matched whole, as CloudFormation does), MinValue/MaxValue and
 * MinLength/MaxLength. Throws InputError `Invalid --param <name>: expected <constraint>, got '<value>'`.
 */
export function checkTemplateParameters(service: ServiceView): void {
  const sources = new Map<string, string>();
  for (const file of service.rawResources ?? []) {
    const parameters = (file as { Parameters?: Record<string, { Default?: unknown }> } | null)?.Parameters;
    for (const [name, parameter] of Object.entries(parameters ?? {})) {
      const param = [...String(parameter?.Default ?? '').matchAll(PARAM_REFERENCE)][0]?.[1];
      if (param) sources.set(name, param);
    }
  }
  for (const [name, parameter] of Object.entries(service.templateParameters ?? {})) {
    const param = sources.get(name);
    if (param === undefined || parameter.Default === undefined || parameter.Default === null) continue;
    const value = String(parameter.Default);
    const expected = refusal(parameter, value);
    if (expected !== undefined) {
      throw new InputError(`--param ${param}`, `${expected} (CloudFormation parameter ${name})`, value);
    }
  }
}

/** Why CloudFormation would refuse `value` for `parameter`, or undefined when it would not. */
function refusal(parameter: TemplateParameterView, value: string): string | undefined {
  const described = (form: string) => parameter.ConstraintDescription ?? form;
  const allowed = parameter.AllowedValues?.map(String);
  if (allowed && !allowed.includes(value)) return described(`one of ${allowed.join(', ')}`);
  if (
    parameter.AllowedPattern !== undefined &&
    !new RegExp(`^(?:${parameter.AllowedPattern})$`).test(value)
  ) {
    return described(`a value matching ${parameter.AllowedPattern}`);
  }
  const number = Number(value);
  const { MinValue, MaxValue, MinLength, MaxLength } = parameter;
  if (
    (MinValue !== undefined || MaxValue !== undefined) &&
    (value.trim() === '' ||
      !Number.isFinite(number) ||
      number < Number(MinValue ?? -Infinity) ||
      number > Number(MaxValue ?? Infinity))
  ) {
    return described(`a number from ${MinValue ?? '-Infinity'} to ${MaxValue ?? 'Infinity'}`);
  }
  if (value.length < Number(MinLength ?? 0) || value.length > Number(MaxLength ?? Infinity)) {
    return described(`${MinLength ?? 0} to ${MaxLength ?? 'any number of'} characters`);
  }
  return undefined;
}

/** The slice of osls's Serverless instance the plugin uses. */
interface Serverless {
  serviceDir: string;
  configurationFilename: string;
  service: {
    functions: Record<string, ServiceFunction>;
    provider: { region: string; environment?: Record<string, unknown> };
    resources?: { Parameters?: Record<string, TemplateParameterView> } | null;
  };
  processedInput: { options: { param?: string[] | string } };
  getProvider(name: 'aws'): { naming: { getLambdaLogicalId(name: string): string } };
  classes: { Error: new (message: string, code: string) => Error };
}

interface PluginUtils {
  log: { notice(message: string): void };
}

/**
 * The check the plugin runs (parameter-check.mjs hooks it before packaging and before a deploy), at
 * most once per command: `sls deploy` packages first and reaches both hooks.
 */
export class ParameterCheck {
  private checked = false;

  constructor(
    private readonly serverless: Serverless,
    private readonly utils?: PluginUtils,
  ) {}

  check(): void {
    if (this.checked) return;
    this.checked = true;
    if (process.env[PLACEHOLDERS_VARIABLE] === '1') {
      this.utils?.log.notice('Parameter values are placeholders: each is checked by stackset deploy');
      return;
    }
    const serverless = this.serverless;
    const param = serverless.processedInput.options.param;
    const read = (path: string) => parseYaml(readFileSync(join(serverless.serviceDir, path), 'utf8'));
    const rawConfig = read(serverless.configurationFilename) as { resources?: unknown };
    // resources: a list of `${file(resources/<name>.yml)}` includes, or the resources themselves.
    const rawResources = (
      Array.isArray(rawConfig.resources) ? rawConfig.resources : [rawConfig.resources]
    ).map((entry) => {
      const include = typeof entry === 'string' ? /^\$\{file\(([^)]+)\)\}$/.exec(entry.trim()) : null;
      return include?.[1] ? read(include[1]) : entry;
    });
    try {
      checkServiceParameters({
        functions: serverless.service.functions,
        providerEnvironment: serverless.service.provider.environment ?? {},
        region: serverless.service.provider.region,
        rawConfig,
        rawResources,
        templateParameters: serverless.service.resources?.Parameters ?? {},
        cliParams: param === undefined ? [] : Array.isArray(param) ? param : [param],
        logicalId: (name) => serverless.getProvider('aws').naming.getLambdaLogicalId(name),
      });
    } catch (error) {
      // A ServerlessError prints as its message alone (no stack trace) and exits 1.
      if (error instanceof InputError) throw new serverless.classes.Error(error.message, 'INVALID_PARAM');
      throw error;
    }
  }
}
