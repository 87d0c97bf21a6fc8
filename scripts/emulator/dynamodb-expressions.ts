// DynamoDB expressions for the emulator: a tokenizer and a recursive-descent parser for condition,
// key-condition, update and projection expressions, and their evaluation against stored items.
// Errors copy DynamoDB's ValidationException wording, so client bugs (an undefined :value, an
// unused #name, a reserved word used bare) fail here as they would against AWS.
import { validation } from './core.ts';
import { isReservedWord } from './dynamodb-reserved-words.ts';
import {
  type AttributeValue,
  addNumbers,
  canonicalNumber,
  cloneItem,
  compareValues,
  formatPath,
  getPath,
  type Item,
  type PathSegment,
  removePath,
  setMembers,
  setPath,
  typeOf,
  validateValue,
  valuesEqual,
} from './dynamodb-values.ts';

export type ExpressionKind =
  | 'ConditionExpression'
  | 'KeyConditionExpression'
  | 'FilterExpression'
  | 'UpdateExpression'
  | 'ProjectionExpression';

/** The request's ExpressionAttributeNames/Values, and which of them the expressions used. */
export interface ExpressionContext {
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
  usedNames: Set<string>;
  usedValues: Set<string>;
}

export type Operand =
  | { kind: 'path'; path: PathSegment[] }
  | { kind: 'value'; name: string }
  | { kind: 'size'; path: PathSegment[] }
  | { kind: 'if_not_exists'; path: PathSegment[]; fallback: Operand }
  | { kind: 'list_append'; left: Operand; right: Operand };

export const comparators = ['=', '<>', '<', '<=', '>', '>='] as const;
export type Comparator = (typeof comparators)[number];

const conditionFunctions = [
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
] as const;
type ConditionFunction = (typeof conditionFunctions)[number];

export type Condition =
  | { kind: 'compare'; operator: Comparator; left: Operand; right: Operand }
  | { kind: 'between'; operand: Operand; low: Operand; high: Operand }
  | { kind: 'in'; operand: Operand; candidates: Operand[] }
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; condition: Condition }
  | { kind: 'function'; name: ConditionFunction; args: Operand[] };

export type SetValue = { operand: Operand } | { operator: '+' | '-'; left: Operand; right: Operand };

export interface UpdateExpression {
  set: { path: PathSegment[]; value: SetValue }[];
  remove: PathSegment[][];
  add: { path: PathSegment[]; value: Operand }[];
  delete: { path: PathSegment[]; value: Operand }[];
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'alias'; text: string }
  | { kind: 'value'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'symbol'; text: string }
  | { kind: 'end'; text: '' };

const symbols = ['<>', '<=', '>=', '=', '<', '>', '(', ')', ',', '.', '[', ']', '+', '-'];

function tokenize(text: string, label: ExpressionKind): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < text.length) {
    const rest = text.slice(position);
    const space = /^\s+/.exec(rest);
    if (space) {
      position += space[0].length;
      continue;
    }
    const match =
      /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) ??
      /^#[A-Za-z0-9_]+/.exec(rest) ??
      /^:[A-Za-z0-9_]+/.exec(rest) ??
      /^\d+/.exec(rest);
    if (match) {
      const word = match[0];
      const kind = word.startsWith('#')
        ? 'alias'
        : word.startsWith(':')
          ? 'value'
          : /^\d/.test(word)
            ? 'number'
            : 'word';
      tokens.push({ kind, text: word } as Token);
      position += word.length;
      continue;
    }
    const symbol = symbols.find((candidate) => rest.startsWith(candidate));
    if (!symbol) {
      throw validation(
        `Invalid ${label}: Syntax error; token: "${rest[0]}", near: "${text.slice(Math.max(0, position - 5), position + 5)}"`,
      );
    }
    tokens.push({ kind: 'symbol', text: symbol });
    position += symbol.length;
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

interface Parser {
  peek(offset?: number): Token;
  next(): Token;
  fail(detail: string): never;
  expect(text: string): void;
  isWord(word: string, offset?: number): boolean;
}

function createParser(text: string, label: ExpressionKind): Parser {
  if (text.trim() === '') throw validation(`Invalid ${label}: The expression can not be empty;`);
  const tokens = tokenize(text, label);
  let index = 0;
  const parser: Parser = {
    peek: (offset = 0) => tokens[Math.min(index + offset, tokens.length - 1)] as Token,
    next: () => tokens[Math.min(index++, tokens.length - 1)] as Token,
    fail(detail) {
      const token = parser.peek();
      const shown = token.kind === 'end' ? '<EOF>' : token.text;
      throw validation(`Invalid ${label}: ${detail}; token: "${shown}", near: "${text}"`);
    },
    expect(expected) {
      const token = parser.peek();
      if (token.kind !== 'symbol' || token.text !== expected)
        parser.fail(`Syntax error, expected "${expected}"`);
      index += 1;
    },
    isWord: (word, offset = 0) => {
      const token = parser.peek(offset);
      return token.kind === 'word' && token.text.toUpperCase() === word;
    },
  };
  return parser;
}

function isSymbol(token: Token, text: string): boolean {
  return token.kind === 'symbol' && token.text === text;
}

export function createExpressionContext(names: unknown, values: unknown): ExpressionContext {
  const context: ExpressionContext = { names: {}, values: {}, usedNames: new Set(), usedValues: new Set() };
  if (names !== undefined) {
    if (names === null || typeof names !== 'object' || Object.keys(names).length === 0) {
      throw validation('ExpressionAttributeNames must not be empty');
    }
    for (const [alias, name] of Object.entries(names)) {
      if (!/^#[A-Za-z0-9_]+$/.test(alias)) {
        throw validation(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${alias}"`);
      }
      if (typeof name !== 'string' || name === '') {
        throw validation(
          `ExpressionAttributeNames contains invalid value: Empty attribute name for key ${alias}`,
        );
      }
      context.names[alias] = name;
    }
  }
  if (values !== undefined) {
    if (values === null || typeof values !== 'object' || Object.keys(values).length === 0) {
      throw validation('ExpressionAttributeValues must not be empty');
    }
    for (const [placeholder, value] of Object.entries(values)) {
      if (!/^:[A-Za-z0-9_]+$/.test(placeholder)) {
        throw validation(
          `ExpressionAttributeValues contains invalid key: Syntax error; key: "${placeholder}"`,
        );
      }
      context.values[placeholder] = validateValue(value, `ExpressionAttributeValues.${placeholder}`);
    }
  }
  return context;
}

/** After every expression of a request is parsed: DynamoDB rejects names and values nobody used. */
export function assertAllUsed(context: ExpressionContext): void {
  const unusedNames = Object.keys(context.names).filter((alias) => !context.usedNames.has(alias));
  if (unusedNames.length > 0) {
    throw validation(
      `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
    );
  }
  const unusedValues = Object.keys(context.values).filter((name) => !context.usedValues.has(name));
  if (unusedValues.length > 0) {
    throw validation(
      `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
    );
  }
}

function parsePath(parser: Parser, context: ExpressionContext, label: ExpressionKind): PathSegment[] {
  const path: PathSegment[] = [nameSegment(parser, context, label)];
  for (;;) {
    const token = parser.peek();
    if (isSymbol(token, '.')) {
      parser.next();
      path.push(nameSegment(parser, context, label));
    } else if (isSymbol(token, '[')) {
      parser.next();
      const number = parser.next();
      if (number.kind !== 'number') parser.fail('Syntax error, expected a list index');
      parser.expect(']');
      path.push({ kind: 'index', index: Number(number.text) });
    } else {
      return path;
    }
  }
}

function nameSegment(parser: Parser, context: ExpressionContext, label: ExpressionKind): PathSegment {
  const token = parser.peek();
  if (token.kind === 'alias') {
    parser.next();
    const name = context.names[token.text];
    if (name === undefined) {
      throw validation(
        `Invalid ${label}: An expression attribute name used in the document path is not defined; attribute name: ${token.text}`,
      );
    }
    context.usedNames.add(token.text);
    return { kind: 'name', name };
  }
  if (token.kind === 'word') {
    if (isReservedWord(token.text)) {
      throw validation(
        `Invalid ${label}: Attribute name is a reserved keyword; reserved keyword: ${token.text}`,
      );
    }
    parser.next();
    return { kind: 'name', name: token.text };
  }
  return parser.fail('Syntax error, expected an attribute name');
}

function useValue(name: string, context: ExpressionContext, label: ExpressionKind): Operand {
  if (context.values[name] === undefined) {
    throw validation(
      `Invalid ${label}: An expression attribute value used in expression is not defined; attribute value: ${name}`,
    );
  }
  context.usedValues.add(name);
  return { kind: 'value', name };
}

function parseOperand(parser: Parser, context: ExpressionContext, label: ExpressionKind): Operand {
  const token = parser.peek();
  if (token.kind === 'value') {
    parser.next();
    return useValue(token.text, context, label);
  }
  if (token.kind === 'word' && isSymbol(parser.peek(1), '(')) {
    const name = token.text;
    parser.next();
    parser.expect('(');
    let operand: Operand;
    if (name === 'size' && label !== 'UpdateExpression') {
      operand = { kind: 'size', path: parsePath(parser, context, label) };
    } else if (name === 'if_not_exists' && label === 'UpdateExpression') {
      const path = parsePath(parser, context, label);
      parser.expect(',');
      operand = { kind: 'if_not_exists', path, fallback: parseOperand(parser, context, label) };
    } else if (name === 'list_append' && label === 'UpdateExpression') {
      const left = parseOperand(parser, context, label);
      parser.expect(',');
      operand = { kind: 'list_append', left, right: parseOperand(parser, context, label) };
    } else {
      throw validation(
        `Invalid ${label}: The function is not allowed to be used this way in an expression; function: ${name}`,
      );
    }
    parser.expect(')');
    return operand;
  }
  return { kind: 'path', path: parsePath(parser, context, label) };
}

export function parseCondition(
  text: string,
  context: ExpressionContext,
  label: ExpressionKind = 'ConditionExpression',
): Condition {
  const parser = createParser(text, label);
  const condition = parseOr(parser, context, label);
  if (parser.peek().kind !== 'end') parser.fail('Syntax error');
  return condition;
}

function parseOr(parser: Parser, context: ExpressionContext, label: ExpressionKind): Condition {
  let left = parseAnd(parser, context, label);
  while (parser.isWord('OR')) {
    parser.next();
    left = { kind: 'or', left, right: parseAnd(parser, context, label) };
  }
  return left;
}

function parseAnd(parser: Parser, context: ExpressionContext, label: ExpressionKind): Condition {
  let left = parseNot(parser, context, label);
  while (parser.isWord('AND')) {
    parser.next();
    left = { kind: 'and', left, right: parseNot(parser, context, label) };
  }
  return left;
}

function parseNot(parser: Parser, context: ExpressionContext, label: ExpressionKind): Condition {
  if (parser.isWord('NOT')) {
    parser.next();
    return { kind: 'not', condition: parseNot(parser, context, label) };
  }
  return parsePrimary(parser, context, label);
}

function parsePrimary(parser: Parser, context: ExpressionContext, label: ExpressionKind): Condition {
  const token = parser.peek();
  if (isSymbol(token, '(')) {
    parser.next();
    const inner = parseOr(parser, context, label);
    parser.expect(')');
    return inner;
  }
  if (token.kind === 'word' && isSymbol(parser.peek(1), '(') && token.text !== 'size') {
    const name = token.text as ConditionFunction;
    if (!conditionFunctions.includes(name)) {
      throw validation(`Invalid ${label}: Invalid function name; function: ${token.text}`);
    }
    parser.next();
    parser.expect('(');
    const args = [parseOperand(parser, context, label)];
    while (isSymbol(parser.peek(), ',')) {
      parser.next();
      args.push(parseOperand(parser, context, label));
    }
    parser.expect(')');
    checkFunctionArguments(name, args, label);
    return { kind: 'function', name, args };
  }
  const left = parseOperand(parser, context, label);
  const next = parser.peek();
  if (next.kind === 'symbol' && (comparators as readonly string[]).includes(next.text)) {
    parser.next();
    return {
      kind: 'compare',
      operator: next.text as Comparator,
      left,
      right: parseOperand(parser, context, label),
    };
  }
  if (parser.isWord('BETWEEN')) {
    parser.next();
    const low = parseOperand(parser, context, label);
    if (!parser.isWord('AND')) parser.fail('Syntax error, BETWEEN needs AND');
    parser.next();
    const high = parseOperand(parser, context, label);
    if (low.kind === 'value' && high.kind === 'value') {
      const order = compareValues(
        context.values[low.name] as AttributeValue,
        context.values[high.name] as AttributeValue,
      );
      if (order !== undefined && order > 0) {
        throw validation(
          `Invalid ${label}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound`,
        );
      }
    }
    return { kind: 'between', operand: left, low, high };
  }
  if (parser.isWord('IN')) {
    parser.next();
    parser.expect('(');
    const candidates = [parseOperand(parser, context, label)];
    while (isSymbol(parser.peek(), ',')) {
      parser.next();
      candidates.push(parseOperand(parser, context, label));
    }
    parser.expect(')');
    return { kind: 'in', operand: left, candidates };
  }
  return parser.fail('Syntax error, expected a comparison');
}

function checkFunctionArguments(name: ConditionFunction, args: Operand[], label: ExpressionKind): void {
  const expected = name === 'attribute_exists' || name === 'attribute_not_exists' ? 1 : 2;
  if (args.length !== expected) {
    throw validation(
      `Invalid ${label}: Incorrect number of operands for operator or function; function: ${name}, number of operands: ${args.length}`,
    );
  }
  if (args[0]?.kind !== 'path') {
    throw validation(`Invalid ${label}: Operator or function requires a document path; function: ${name}`);
  }
}

export function parseUpdate(text: string, context: ExpressionContext): UpdateExpression {
  const label = 'UpdateExpression';
  const parser = createParser(text, label);
  const update: UpdateExpression = { set: [], remove: [], add: [], delete: [] };
  const seen = new Set<string>();
  while (parser.peek().kind !== 'end') {
    const keyword = parser.peek();
    const section = keyword.kind === 'word' ? keyword.text.toUpperCase() : '';
    if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(section))
      parser.fail('Syntax error, expected SET, REMOVE, ADD or DELETE');
    if (seen.has(section)) {
      throw validation(
        `Invalid UpdateExpression: The "${section}" section can only be used once in an update expression;`,
      );
    }
    seen.add(section);
    parser.next();
    do {
      if (isSymbol(parser.peek(), ',')) parser.next();
      const path = parsePath(parser, context, label);
      if (section === 'SET') {
        parser.expect('=');
        const left = parseOperand(parser, context, label);
        const operator = parser.peek();
        if (isSymbol(operator, '+') || isSymbol(operator, '-')) {
          parser.next();
          const right = parseOperand(parser, context, label);
          update.set.push({ path, value: { operator: operator.text as '+' | '-', left, right } });
        } else {
          update.set.push({ path, value: { operand: left } });
        }
      } else if (section === 'REMOVE') {
        update.remove.push(path);
      } else {
        const value = parseOperand(parser, context, label);
        if (value.kind !== 'value')
          parser.fail(`Syntax error, ${section} needs an expression attribute value`);
        (section === 'ADD' ? update.add : update.delete).push({ path, value });
      }
    } while (isSymbol(parser.peek(), ','));
  }
  assertNoOverlap([
    ...update.set.map((action) => action.path),
    ...update.remove,
    ...update.add.map((action) => action.path),
    ...update.delete.map((action) => action.path),
  ]);
  return update;
}

function assertNoOverlap(paths: PathSegment[][]): void {
  const written = paths.map(formatPath);
  for (const [index, path] of written.entries()) {
    const clash = written.find(
      (other, otherIndex) =>
        otherIndex !== index &&
        (other === path || other.startsWith(`${path}.`) || other.startsWith(`${path}[`)),
    );
    if (clash !== undefined) {
      throw validation(
        `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${path}], path two: [${clash}]`,
      );
    }
  }
}

export function parseProjection(text: string, context: ExpressionContext): PathSegment[][] {
  const label = 'ProjectionExpression';
  const parser = createParser(text, label);
  const paths = [parsePath(parser, context, label)];
  while (isSymbol(parser.peek(), ',')) {
    parser.next();
    paths.push(parsePath(parser, context, label));
  }
  if (parser.peek().kind !== 'end') parser.fail('Syntax error');
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export function resolveOperand(
  operand: Operand,
  item: Item,
  context: ExpressionContext,
): AttributeValue | undefined {
  switch (operand.kind) {
    case 'path':
      return getPath(item, operand.path);
    case 'value':
      return context.values[operand.name];
    case 'size': {
      const value = getPath(item, operand.path);
      if (value === undefined) return undefined;
      const size = sizeOf(value);
      return size === undefined ? undefined : { N: String(size) };
    }
    case 'if_not_exists':
      return getPath(item, operand.path) ?? resolveOperand(operand.fallback, item, context);
    case 'list_append': {
      const left = resolveOperand(operand.left, item, context);
      const right = resolveOperand(operand.right, item, context);
      if (!left?.L || !right?.L) {
        throw validation('An operand in the update expression has an incorrect data type');
      }
      return { L: [...left.L, ...right.L] };
    }
  }
}

function sizeOf(value: AttributeValue): number | undefined {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.B !== undefined) return Buffer.from(value.B, 'base64').length;
  if (value.L) return value.L.length;
  if (value.M) return Object.keys(value.M).length;
  const members = value.SS ?? value.NS ?? value.BS;
  return members?.length;
}

/** Evaluates a condition; a missing item behaves as an item with no attributes. */
export function evaluateCondition(
  condition: Condition,
  item: Item | undefined,
  context: ExpressionContext,
): boolean {
  const subject = item ?? {};
  const resolve = (operand: Operand) => resolveOperand(operand, subject, context);
  switch (condition.kind) {
    case 'and':
      return (
        evaluateCondition(condition.left, item, context) && evaluateCondition(condition.right, item, context)
      );
    case 'or':
      return (
        evaluateCondition(condition.left, item, context) || evaluateCondition(condition.right, item, context)
      );
    case 'not':
      return !evaluateCondition(condition.condition, item, context);
    case 'compare': {
      const left = resolve(condition.left);
      const right = resolve(condition.right);
      // A missing attribute makes every comparison false, <> included, as in DynamoDB.
      if (left === undefined || right === undefined) return false;
      if (condition.operator === '=') return valuesEqual(left, right);
      if (condition.operator === '<>') return !valuesEqual(left, right);
      const order = compareValues(left, right);
      if (order === undefined) return false;
      if (condition.operator === '<') return order < 0;
      if (condition.operator === '<=') return order <= 0;
      if (condition.operator === '>') return order > 0;
      return order >= 0;
    }
    case 'between': {
      const value = resolve(condition.operand);
      const low = resolve(condition.low);
      const high = resolve(condition.high);
      if (value === undefined || low === undefined || high === undefined) return false;
      const fromLow = compareValues(value, low);
      const toHigh = compareValues(value, high);
      return fromLow !== undefined && toHigh !== undefined && fromLow >= 0 && toHigh <= 0;
    }
    case 'in': {
      const value = resolve(condition.operand);
      if (value === undefined) return false;
      return condition.candidates.some((candidate) => {
        const other = resolve(candidate);
        return other !== undefined && valuesEqual(value, other);
      });
    }
    case 'function':
      return evaluateFunction(condition.name, condition.args, subject, context);
  }
}

function evaluateFunction(
  name: ConditionFunction,
  args: Operand[],
  item: Item,
  context: ExpressionContext,
): boolean {
  const [first, second] = args.map((operand) => resolveOperand(operand, item, context));
  switch (name) {
    case 'attribute_exists':
      return first !== undefined;
    case 'attribute_not_exists':
      return first === undefined;
    case 'attribute_type':
      return first !== undefined && second?.S !== undefined && typeOf(first) === second.S;
    case 'begins_with':
      if (first?.S !== undefined && second?.S !== undefined) return first.S.startsWith(second.S);
      if (first?.B !== undefined && second?.B !== undefined) {
        const prefix = Buffer.from(second.B, 'base64');
        return Buffer.from(first.B, 'base64').subarray(0, prefix.length).equals(prefix);
      }
      return false;
    case 'contains': {
      if (first === undefined || second === undefined) return false;
      if (first.S !== undefined) return second.S !== undefined && first.S.includes(second.S);
      if (first.SS && second.S !== undefined) return first.SS.includes(second.S);
      if (first.NS && second.N !== undefined) return setMembers(first).has(canonicalNumber(second.N));
      if (first.BS && second.B !== undefined) return first.BS.includes(second.B);
      if (first.L) return first.L.some((member) => valuesEqual(member, second));
      return false;
    }
  }
}

export interface UpdateResult {
  item: Item;
  /** Top-level attribute names the update wrote or removed (for UPDATED_OLD / UPDATED_NEW). */
  touched: Set<string>;
}

/**
 * Applies an update to a copy of the item. Every right-hand side reads the item as it was before
 * the update, as DynamoDB does.
 */
export function applyUpdate(
  update: UpdateExpression,
  original: Item,
  context: ExpressionContext,
): UpdateResult {
  const item = cloneItem(original);
  const touched = new Set<string>();
  const touch = (path: PathSegment[]) => {
    const first = path[0];
    if (first?.kind === 'name') touched.add(first.name);
  };
  const computed = update.set.map(({ path, value }) => ({
    path,
    value: computeSetValue(value, original, context),
  }));
  for (const { path, value } of computed) {
    setPath(item, path, value);
    touch(path);
  }
  for (const path of update.remove) {
    removePath(item, path);
    touch(path);
  }
  for (const { path, value } of update.add) {
    const operand = resolveOperand(value, original, context) as AttributeValue;
    const current = getPath(original, path);
    setPath(item, path, addValue(current, operand));
    touch(path);
  }
  for (const { path, value } of update.delete) {
    const operand = resolveOperand(value, original, context) as AttributeValue;
    const current = getPath(original, path);
    if (current === undefined) continue;
    const remaining = deleteFromSet(current, operand);
    if (remaining === undefined) removePath(item, path);
    else setPath(item, path, remaining);
    touch(path);
  }
  return { item, touched };
}

function computeSetValue(value: SetValue, item: Item, context: ExpressionContext): AttributeValue {
  if ('operand' in value) {
    const resolved = resolveOperand(value.operand, item, context);
    if (resolved === undefined) {
      throw validation('The provided expression refers to an attribute that does not exist in the item');
    }
    return resolved;
  }
  const left = resolveOperand(value.left, item, context);
  const right = resolveOperand(value.right, item, context);
  if (left === undefined || right === undefined) {
    throw validation('The provided expression refers to an attribute that does not exist in the item');
  }
  if (left.N === undefined || right.N === undefined) {
    throw validation(`An operand in the update expression has an incorrect data type`);
  }
  return { N: addNumbers(left.N, right.N, value.operator === '+' ? 1 : -1) };
}

function addValue(current: AttributeValue | undefined, operand: AttributeValue): AttributeValue {
  if (operand.N !== undefined) {
    if (current === undefined) return { N: operand.N };
    if (current.N === undefined)
      throw validation('An operand in the update expression has an incorrect data type');
    return { N: addNumbers(current.N, operand.N) };
  }
  const type = typeOf(operand);
  if (type !== 'SS' && type !== 'NS' && type !== 'BS') {
    throw validation(
      `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: ${type}`,
    );
  }
  if (current === undefined) return operand;
  if (typeOf(current) !== type)
    throw validation('An operand in the update expression has an incorrect data type');
  const members = [...(current[type] ?? [])];
  const present = setMembers(current);
  for (const member of operand[type] ?? []) {
    const key = type === 'NS' ? canonicalNumber(member) : member;
    if (!present.has(key)) {
      present.add(key);
      members.push(member);
    }
  }
  return { [type]: members };
}

function deleteFromSet(current: AttributeValue, operand: AttributeValue): AttributeValue | undefined {
  const type = typeOf(operand);
  if ((type !== 'SS' && type !== 'NS' && type !== 'BS') || typeOf(current) !== type) {
    throw validation('An operand in the update expression has an incorrect data type');
  }
  const removing = setMembers(operand);
  const remaining = (current[type] ?? []).filter(
    (member) => !removing.has(type === 'NS' ? canonicalNumber(member) : member),
  );
  // DynamoDB has no empty sets: removing the last member removes the attribute.
  return remaining.length === 0 ? undefined : { [type]: remaining };
}

/** Copies only the projected paths of an item. */
export function project(item: Item, paths: PathSegment[][]): Item {
  const result: Item = {};
  for (const path of paths) {
    const value = getPath(item, path);
    if (value === undefined) continue;
    const [first] = path;
    if (first?.kind !== 'name') continue;
    if (path.length === 1) {
      result[first.name] = cloneItem(value);
      continue;
    }
    // Nested projections keep the enclosing maps and lists, trimmed to the requested members.
    result[first.name] = mergeProjected(
      result[first.name],
      path.slice(1),
      value,
      item[first.name] as AttributeValue,
    );
  }
  return result;
}

function mergeProjected(
  existing: AttributeValue | undefined,
  rest: PathSegment[],
  leaf: AttributeValue,
  source: AttributeValue,
): AttributeValue {
  const [segment, ...remaining] = rest;
  if (!segment) return cloneItem(leaf);
  if (segment.kind === 'name') {
    const map = existing?.M ?? {};
    const child = source.M?.[segment.name] as AttributeValue;
    map[segment.name] = mergeProjected(map[segment.name], remaining, leaf, child);
    return { M: map };
  }
  const list = existing?.L ?? [];
  const child = source.L?.[segment.index] as AttributeValue;
  list.push(mergeProjected(undefined, remaining, leaf, child));
  return { L: list };
}
