// Checks StackSet parameter values with the functions' own environment readers, before a rollout.
// A value CloudFormation accepts but a function refuses at cold start (SWEEP_GRACE_MINUTES=20000)
// would make the rollout "succeed" and then fail every invocation in every account. So `deploy`
// builds, from the packaged template, the environment each function would get from the values
// (each variable a `Ref` to a parameter, or an `Fn::Sub` of parameters and literals, exactly as
// serverless.yml maps `${param:...}` to it) and runs the same reader the handler runs at cold start:
// no bound is copied here, so none can drift from the functions'.
import { readCensusConfig } from '../census/config.ts';
import type { Env } from '../config.ts';
import { readCreateConfig } from '../create/config.ts';
import { withSchedulerRoleArn } from '../create/role.ts';
import { ConfigError, InputError } from '../errors.ts';
import { readSweepConfig } from '../sweep/config.ts';
import { partitionOf, type Template } from './stackset-package.ts';

/**
 * The cold-start reader of each function, by its handler module (`src/handlers/<name>.handler`).
 * A function with no configuration (`target`) reads nothing. A handler not listed here is an error:
 * its reader must be added so its values are checked too.
 */
const READERS: Record<string, ((env: Env, region: string) => unknown) | null> = {
  sweep: (env) => readSweepConfig(env),
  census: (env) => readCensusConfig(env),
  // As the handler does: the role ARN from SCHEDULER_ROLE_NAME and the function's own ARN.
  create: (env, region) =>
    readCreateConfig(
      withSchedulerRoleArn(env, `arn:${partitionOf(region)}:lambda:${region}:111122223333:function:create`),
    ),
  target: null,
};

/** One function's environment at the given values: each variable's value and the parameters it uses. */
export interface FunctionEnvironment {
  logicalId: string;
  handler: string;
  env: Env;
  /** Variable name → the template parameters its value is built from. */
  sources: Record<string, string[]>;
}

/**
 * Every Lambda function's environment in `region` when the template's parameters take `values`
 * (the rest their Default). A variable whose value needs a resource (a `Ref` to a table, `GetAtt`)
 * is left unset: no function reads a parameter through one.
 */
export function functionEnvironments(
  template: Template,
  values: Readonly<Record<string, string>>,
  region: string,
): FunctionEnvironment[] {
  const parameters = template.Parameters ?? {};
  const lookUp = (name: string): string | undefined => {
    if (name === 'AWS::Region') return region;
    if (name === 'AWS::Partition') return partitionOf(region);
    if (name === 'AWS::URLSuffix') return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    if (!(name in parameters)) return undefined;
    return values[name] ?? String(parameters[name]?.Default ?? '');
  };
  const environments: FunctionEnvironment[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const properties = resource.Properties ?? {};
    const variables =
      (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const env: Env = {};
    const sources: Record<string, string[]> = {};
    for (const [variable, raw] of Object.entries(variables)) {
      const resolved = resolveValue(raw, lookUp, (name) => name in parameters);
      if (resolved === undefined) continue;
      env[variable] = resolved.value;
      if (resolved.uses.length > 0) sources[variable] = resolved.uses;
    }
    environments.push({ logicalId, handler: String(properties.Handler ?? ''), env, sources });
  }
  return environments;
}

/** A literal, a `Ref` or an `Fn::Sub` string; undefined when it needs anything else. */
function resolveValue(
  raw: unknown,
  lookUp: (name: string) => string | undefined,
  isParameter: (name: string) => boolean,
): { value: string; uses: string[] } | undefined {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') {
    return { value: String(raw), uses: [] };
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const entries = Object.entries(raw);
  if (entries.length !== 1) return undefined;
  const [[kind, argument]] = entries as [[string, unknown]];
  if (kind === 'Ref' && typeof argument === 'string') {
    const value = lookUp(argument);
    return value === undefined ? undefined : { value, uses: isParameter(argument) ? [argument] : [] };
  }
  if (kind === 'Fn::Sub' && typeof argument === 'string') {
    const uses: string[] = [];
    let unresolved = false;
    const value = argument.replace(/\$\{(!?)([^}]*)\}/g, (whole, bang: string, name: string) => {
      if (bang === '!') return `\${${name}}`;
      const replacement = lookUp(name);
      if (replacement === undefined) {
        unresolved = true;
        return whole;
      }
      if (isParameter(name)) uses.push(name);
      return replacement;
    });
    return unresolved ? undefined : { value, uses };
  }
  return undefined;
}

/**
 * Runs every function's cold-start reader over its environment at `values` in `region`. Throws an
 * InputError naming `${option} <parameter>` and the reader's expected form when a value is refused;
 * a plain Error when a function has no known reader or refuses a value no parameter sets (a broken
 * package, not a bad flag).
 */
export function checkFunctionEnvironments(
  template: Template,
  values: Readonly<Record<string, string>>,
  region: string,
  option: string,
): void {
  for (const fn of functionEnvironments(template, values, region)) {
    checkFunctionEnvironment(fn, values, region, option);
  }
}

/**
 * Runs one function's cold-start reader over its environment (`fn.env`, built by the caller from a
 * template or from serverless.yml as packaged). `values` are the parameters the user gave: a refused
 * variable built from several parameters names the one given. Throws as checkFunctionEnvironments.
 */
export function checkFunctionEnvironment(
  fn: FunctionEnvironment,
  values: Readonly<Record<string, string>>,
  region: string,
  option: string,
): void {
  const module = /^src\/handlers\/([a-z0-9-]+)\.[A-Za-z]+$/.exec(fn.handler)?.[1] ?? '';
  const reader = READERS[module];
  if (reader === undefined) {
    throw new Error(`${fn.logicalId}: no environment reader known for handler '${fn.handler}'`);
  }
  if (reader === null) return;
  try {
    reader(fn.env, region);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const uses = fn.sources[error.variable] ?? [];
    const given = uses.find((name) => name in values) ?? uses[0];
    if (given === undefined) throw new Error(`${fn.logicalId}: ${error.message} (set by no parameter)`);
    throw new InputError(
      `${option} ${given}`,
      `a value the ${module} function accepts as ${error.variable}: ${error.expected}`,
      values[given] ?? error.got,
    );
  }
}
