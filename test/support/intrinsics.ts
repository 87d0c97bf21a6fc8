// A small evaluator of CloudFormation intrinsic functions, for template tests that must read what a
// stack would create for given parameters: Ref (parameters and pseudo parameters), Fn::Join,
// Fn::Select, Fn::Sub (the one-argument form), Fn::If, and the condition functions Fn::Equals,
// Fn::Not, Fn::And, Fn::Or, Condition. Semantics from the CloudFormation user guide, "Intrinsic
// function reference". Anything else is refused with its name, so a test never reads a guess.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CfnTemplate } from './template.ts';

export type Value = string | number | boolean | Value[] | { [key: string]: Value } | null;

/** Values of parameters, pseudo parameters (AWS::Region) and Ref of resources; lists as string[]. */
export type Bindings = Record<string, string | string[]>;

/** A template written in YAML with long-form intrinsic functions only (no ! tags). */
export function loadYamlTemplate(path: string): CfnTemplate {
  return parse(readFileSync(path, 'utf8')) as CfnTemplate;
}

/** The value of each parameter: the binding, else the template's Default, lists split on commas. */
export function withDefaults(template: CfnTemplate, bindings: Bindings): Bindings {
  const out: Bindings = {};
  for (const [name, definition] of Object.entries(template.Parameters ?? {})) {
    const { Type, Default } = definition as { Type: string; Default?: string | number };
    const given = bindings[name];
    if (given !== undefined) out[name] = given;
    else if (Default !== undefined)
      out[name] = Type === 'CommaDelimitedList' ? String(Default).split(',') : String(Default);
  }
  // Pseudo parameters (AWS::Region) and what Ref of a resource returns (its physical ID or ARN).
  for (const [name, value] of Object.entries(bindings)) out[name] ??= value;
  return out;
}

const NO_VALUE = Symbol('AWS::NoValue');

export class Evaluator {
  constructor(
    private readonly template: CfnTemplate,
    private readonly bindings: Bindings,
  ) {}

  condition(name: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`no condition ${name}`);
    const value = this.evaluate(definition as Value);
    if (typeof value !== 'boolean') throw new Error(`condition ${name} is not a boolean`);
    return value;
  }

  evaluate(node: Value): Value {
    const result = this.resolve(node);
    if (result === NO_VALUE) throw new Error('AWS::NoValue outside a property');
    return result as Value;
  }

  private resolve(node: Value): Value | typeof NO_VALUE {
    if (Array.isArray(node)) {
      return node.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE) as Value[];
    }
    if (node === null || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    const key = keys[0];
    if (
      keys.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition')
    ) {
      return this.intrinsic(key, node[key] as Value);
    }
    const out: Record<string, Value> = {};
    for (const [name, value] of Object.entries(node)) {
      const resolved = this.resolve(value);
      if (resolved !== NO_VALUE) out[name] = resolved as Value;
    }
    return out;
  }

  private intrinsic(name: string, argument: Value): Value | typeof NO_VALUE {
    const args = Array.isArray(argument) ? argument : [argument];
    switch (name) {
      case 'Ref': {
        if (argument === 'AWS::NoValue') return NO_VALUE;
        const value = this.bindings[String(argument)];
        if (value === undefined) throw new Error(`no value bound for Ref ${String(argument)}`);
        return value;
      }
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::Join': {
        const [delimiter, list] = args;
        if (typeof delimiter !== 'string') throw new Error('Fn::Join takes no function in its delimiter');
        const items = this.evaluate(list as Value);
        if (!Array.isArray(items)) throw new Error('Fn::Join needs a list');
        return items.map((item) => this.text(item)).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, list] = args;
        const items = this.evaluate(list as Value);
        if (!Array.isArray(items)) throw new Error('Fn::Select needs a list');
        const item = items[Number(this.evaluate(index as Value))];
        if (item === undefined) throw new Error('Fn::Select index out of range');
        return item;
      }
      case 'Fn::Sub': {
        if (typeof argument !== 'string') throw new Error('only the one-argument Fn::Sub is evaluated');
        return argument.replace(/\$\{([^}!]+)\}/g, (_, reference: string) => {
          const value = this.bindings[reference];
          if (value === undefined) throw new Error(`no value bound for \${${reference}}`);
          return this.text(value);
        });
      }
      case 'Fn::If': {
        const [conditionName, whenTrue, whenFalse] = args;
        return this.resolve((this.condition(String(conditionName)) ? whenTrue : whenFalse) as Value);
      }
      case 'Fn::Equals': {
        const [left, right] = args.map((item) => this.evaluate(item));
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case 'Fn::Not':
        return !this.evaluate(args[0] as Value);
      case 'Fn::And':
        return args.every((item) => this.evaluate(item) === true);
      case 'Fn::Or':
        return args.some((item) => this.evaluate(item) === true);
      default:
        throw new Error(`no evaluation for ${name}`);
    }
  }

  private text(value: Value): string {
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    throw new Error(`not a string: ${JSON.stringify(value)}`);
  }
}
