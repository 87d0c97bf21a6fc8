// DynamoDB AttributeValues for the emulator: validation of the wire form, equality and ordering as
// DynamoDB defines them, number arithmetic without float surprises, and document-path access.
import { validation } from './core.ts';

export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  M?: Item;
  L?: AttributeValue[];
  SS?: string[];
  NS?: string[];
  BS?: string[];
}

export type Item = Record<string, AttributeValue>;

export const attributeTypes = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'] as const;
export type AttributeType = (typeof attributeTypes)[number];

/** One step of a document path: an attribute (or map key) name, or a list index. */
export type PathSegment = { kind: 'name'; name: string } | { kind: 'index'; index: number };

const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const integerPattern = /^[+-]?\d+$/;

export function typeOf(value: AttributeValue): AttributeType {
  const present = attributeTypes.filter((type) => value[type] !== undefined);
  if (present.length !== 1) {
    throw validation(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
  }
  return present[0] as AttributeType;
}

/** Checks a value from the wire, recursively, with DynamoDB's messages. */
export function validateValue(raw: unknown, where: string): AttributeValue {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw validation(`Supplied AttributeValue for ${where} is not an object`);
  }
  const value = raw as AttributeValue;
  const keys = Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  if (keys.length === 0) {
    throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  }
  const unknownKey = keys.find((key) => !(attributeTypes as readonly string[]).includes(key));
  if (unknownKey) throw validation(`Supplied AttributeValue has an unknown datatype ${unknownKey}`);
  const type = typeOf(value);
  switch (type) {
    case 'S':
    case 'B':
      if (typeof value[type] !== 'string') throw validation(`${where}: ${type} must be a string`);
      break;
    case 'N':
      validateNumber(value.N, where);
      break;
    case 'BOOL':
      if (typeof value.BOOL !== 'boolean') throw validation(`${where}: BOOL must be true or false`);
      break;
    case 'NULL':
      if (value.NULL !== true)
        throw validation(
          'One or more parameter values were invalid: Null attribute value types must have the value of true',
        );
      break;
    case 'M':
      if (value.M === null || typeof value.M !== 'object' || Array.isArray(value.M)) {
        throw validation(`${where}: M must be an object`);
      }
      for (const [name, member] of Object.entries(value.M)) validateValue(member, `${where}.${name}`);
      break;
    case 'L':
      if (!Array.isArray(value.L)) throw validation(`${where}: L must be a list`);
      value.L.forEach((member, index) => {
        validateValue(member, `${where}[${index}]`);
      });
      break;
    case 'SS':
    case 'NS':
    case 'BS': {
      const members = value[type];
      if (!Array.isArray(members) || members.some((member) => typeof member !== 'string')) {
        throw validation(`${where}: ${type} must be a list of strings`);
      }
      if (members.length === 0) {
        throw validation(`One or more parameter values were invalid: An ${type} may not be empty`);
      }
      if (type === 'NS') for (const member of members) validateNumber(member, where);
      const canonical = members.map((member) => (type === 'NS' ? canonicalNumber(member) : member));
      if (new Set(canonical).size !== canonical.length) {
        throw validation(
          `One or more parameter values were invalid: Input collection ${where} contains duplicates.`,
        );
      }
      break;
    }
  }
  return value;
}

function validateNumber(raw: unknown, where: string): void {
  if (typeof raw !== 'string' || !numberPattern.test(raw.trim())) {
    throw validation(`The parameter cannot be converted to a numeric value: ${String(raw)} (${where})`);
  }
}

export function validateItem(raw: unknown, where: string): Item {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw validation(`${where} must be a map of attribute names to AttributeValues`);
  }
  for (const [name, value] of Object.entries(raw)) validateValue(value, `${where}.${name}`);
  return raw as Item;
}

/** One spelling per number ("1", "1.0" and "+1" are the same key in DynamoDB). */
export function canonicalNumber(text: string): string {
  const trimmed = text.trim();
  if (integerPattern.test(trimmed)) return BigInt(trimmed).toString();
  return String(Number(trimmed));
}

export function compareNumbers(left: string, right: string): number {
  const a = left.trim();
  const b = right.trim();
  if (integerPattern.test(a) && integerPattern.test(b)) {
    const difference = BigInt(a) - BigInt(b);
    return difference === 0n ? 0 : difference < 0n ? -1 : 1;
  }
  return Math.sign(Number(a) - Number(b));
}

/** Integer arithmetic stays exact (counters past 2^53); fractions use doubles, enough for a state table. */
export function addNumbers(left: string, right: string, sign: 1 | -1 = 1): string {
  const a = left.trim();
  const b = right.trim();
  if (integerPattern.test(a) && integerPattern.test(b)) {
    return (BigInt(a) + BigInt(sign) * BigInt(b)).toString();
  }
  return String(Number(a) + sign * Number(b));
}

function compareBinary(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, 'base64'), Buffer.from(right, 'base64'));
}

/** Ordering for the scalar types that support it (S, N, B); undefined when not comparable. */
export function compareValues(left: AttributeValue, right: AttributeValue): number | undefined {
  if (left.S !== undefined && right.S !== undefined) {
    // DynamoDB orders strings by their UTF-8 bytes, not by UTF-16 code units.
    return Buffer.compare(Buffer.from(left.S, 'utf8'), Buffer.from(right.S, 'utf8'));
  }
  if (left.N !== undefined && right.N !== undefined) return compareNumbers(left.N, right.N);
  if (left.B !== undefined && right.B !== undefined) return compareBinary(left.B, right.B);
  return undefined;
}

export function valuesEqual(left: AttributeValue, right: AttributeValue): boolean {
  const type = typeOf(left);
  if (type !== typeOf(right)) return false;
  switch (type) {
    case 'S':
    case 'N':
    case 'B':
      return compareValues(left, right) === 0;
    case 'BOOL':
      return left.BOOL === right.BOOL;
    case 'NULL':
      return true;
    case 'M': {
      const a = left.M ?? {};
      const b = right.M ?? {};
      const keys = Object.keys(a);
      if (keys.length !== Object.keys(b).length) return false;
      return keys.every((key) => b[key] !== undefined && valuesEqual(a[key] as AttributeValue, b[key]));
    }
    case 'L': {
      const a = left.L ?? [];
      const b = right.L ?? [];
      return (
        a.length === b.length && a.every((member, index) => valuesEqual(member, b[index] as AttributeValue))
      );
    }
    case 'SS':
    case 'NS':
    case 'BS': {
      const a = setMembers(left);
      const b = setMembers(right);
      return a.size === b.size && [...a].every((member) => b.has(member));
    }
  }
}

/** Set members in canonical form, so NS {"1", "1.0"} compare as one number. */
export function setMembers(value: AttributeValue): Set<string> {
  if (value.NS) return new Set(value.NS.map(canonicalNumber));
  return new Set(value.SS ?? value.BS ?? []);
}

export function getPath(item: Item, path: readonly PathSegment[]): AttributeValue | undefined {
  const [first, ...rest] = path;
  if (first?.kind !== 'name') return undefined;
  let current: AttributeValue | undefined = item[first.name];
  for (const segment of rest) {
    if (current === undefined) return undefined;
    current = segment.kind === 'name' ? current.M?.[segment.name] : current.L?.[segment.index];
  }
  return current;
}

export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, position) =>
      segment.kind === 'index' ? `[${segment.index}]` : position === 0 ? segment.name : `.${segment.name}`,
    )
    .join('');
}

/** Sets a value at a path; the parent must exist, as in DynamoDB. Mutates the item. */
export function setPath(item: Item, path: readonly PathSegment[], value: AttributeValue): void {
  const [first, ...rest] = path;
  if (first?.kind !== 'name') throw validation('Invalid document path');
  if (rest.length === 0) {
    item[first.name] = value;
    return;
  }
  const parent = getPath(item, path.slice(0, -1));
  const last = path[path.length - 1] as PathSegment;
  if (last.kind === 'name' && parent?.M) {
    parent.M[last.name] = value;
  } else if (last.kind === 'index' && parent?.L) {
    // Past the end appends, as DynamoDB does.
    if (last.index >= parent.L.length) parent.L.push(value);
    else parent.L[last.index] = value;
  } else {
    throw validation('The document path provided in the update expression is invalid for update');
  }
}

/** Removes the value at a path if present. Mutates the item. */
export function removePath(item: Item, path: readonly PathSegment[]): void {
  const [first, ...rest] = path;
  if (first?.kind !== 'name') throw validation('Invalid document path');
  if (rest.length === 0) {
    delete item[first.name];
    return;
  }
  const parent = getPath(item, path.slice(0, -1));
  const last = path[path.length - 1] as PathSegment;
  if (last.kind === 'name' && parent?.M) delete parent.M[last.name];
  else if (last.kind === 'index' && parent?.L && last.index < parent.L.length) parent.L.splice(last.index, 1);
}

export function cloneItem<T>(value: T): T {
  return structuredClone(value);
}
