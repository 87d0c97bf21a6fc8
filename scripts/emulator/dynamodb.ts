// A DynamoDB subset (AWS JSON 1.0, target DynamoDB_20120810) large enough for a small state table:
// tables with a hash and optional range key, item reads and conditional writes, batches, Query and
// Scan with DynamoDB's paging rules. No indexes, streams or transactions.
import {
  AwsError,
  type ControlPlane,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  parseJsonBody,
  renderJsonProtocolError,
  targetOperation,
  validation,
} from './core.ts';
import {
  applyUpdate,
  assertAllUsed,
  type Condition,
  createExpressionContext,
  type ExpressionContext,
  evaluateCondition,
  parseCondition,
  parseProjection,
  parseUpdate,
  project,
} from './dynamodb-expressions.ts';
import {
  type AttributeValue,
  canonicalNumber,
  cloneItem,
  compareValues,
  type Item,
  type PathSegment,
  typeOf,
  validateItem,
  validateValue,
} from './dynamodb-values.ts';

const targetPrefix = 'DynamoDB_20120810.';
const errorNamespace = 'com.amazonaws.dynamodb.v20120810#';
const accountId = '123456789012';
/** DynamoDB stops a Query or Scan page at 1 MB of items read. */
const pageByteLimit = 1024 * 1024;

export const keyTypes = ['S', 'N', 'B'] as const;
export type KeyType = (typeof keyTypes)[number];

export interface KeyAttribute {
  name: string;
  type: KeyType;
}

export interface KeyDefinition {
  hash: KeyAttribute;
  range?: KeyAttribute;
}

interface Table {
  name: string;
  key: KeyDefinition;
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  readCapacity: number;
  writeCapacity: number;
  createdAt: Date;
  tableId: string;
  items: Map<string, Item>;
}

export interface DynamoDbService extends EmulatedService {
  /** Creates an empty ACTIVE table; a bare attribute name means a string key. */
  createTable(name: string, key: { hash: string | KeyAttribute; range?: string | KeyAttribute }): void;
  itemCount(table: string): number;
  /** Copies of the stored items, in scan order. */
  items(table: string): Item[];
  /**
   * At most this many requests of each BatchGetItem / BatchWriteItem call are processed; the rest
   * come back as UnprocessedKeys / UnprocessedItems, as under throttling. undefined: all processed.
   */
  setBatchProcessingLimit(limit: number | undefined): void;
  reset(): void;
}

const operations = [
  'CreateTable',
  'DescribeTable',
  'DeleteTable',
  'ListTables',
  'GetItem',
  'PutItem',
  'DeleteItem',
  'UpdateItem',
  'BatchGetItem',
  'BatchWriteItem',
  'Query',
  'Scan',
] as const;
type Operation = (typeof operations)[number];

const tableNotFound = (name: unknown) =>
  new AwsError(
    'ResourceNotFoundException',
    400,
    `Requested resource not found: Table: ${String(name)} not found`,
  );

export function createDynamoDbService(plane: ControlPlane): DynamoDbService {
  const tables = new Map<string, Table>();
  let batchProcessingLimit: number | undefined;

  function table(name: unknown): Table {
    if (typeof name !== 'string' || name === '') {
      throw validation(
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
      );
    }
    const found = tables.get(name);
    if (!found) throw tableNotFound(name);
    return found;
  }

  function addTable(
    name: string,
    key: KeyDefinition,
    billingMode: Table['billingMode'],
    read = 0,
    write = 0,
  ) {
    if (tables.has(name)) throw new AwsError('ResourceInUseException', 400, `Table already exists: ${name}`);
    tables.set(name, {
      name,
      key,
      billingMode,
      readCapacity: read,
      writeCapacity: write,
      createdAt: plane.now(),
      tableId: crypto.randomUUID(),
      items: new Map(),
    });
  }

  const handlers: Record<Operation, (body: Record<string, unknown>) => unknown> = {
    CreateTable(body) {
      const name = requireTableName(body.TableName);
      if (body.GlobalSecondaryIndexes !== undefined || body.LocalSecondaryIndexes !== undefined) {
        throw validation('The emulator supports tables without secondary indexes only');
      }
      const key = parseKeySchema(body.KeySchema, body.AttributeDefinitions);
      const billingMode = body.BillingMode ?? 'PROVISIONED';
      if (billingMode !== 'PROVISIONED' && billingMode !== 'PAY_PER_REQUEST') {
        throw validation(
          `1 validation error detected: Value '${String(billingMode)}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]`,
        );
      }
      const throughput = body.ProvisionedThroughput as
        | { ReadCapacityUnits?: number; WriteCapacityUnits?: number }
        | undefined;
      if (
        billingMode === 'PROVISIONED' &&
        (!throughput?.ReadCapacityUnits || !throughput.WriteCapacityUnits)
      ) {
        throw validation(
          'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
        );
      }
      if (billingMode === 'PAY_PER_REQUEST' && throughput !== undefined) {
        throw validation(
          'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
        );
      }
      addTable(name, key, billingMode, throughput?.ReadCapacityUnits, throughput?.WriteCapacityUnits);
      return { TableDescription: describe(table(name)) };
    },

    DescribeTable(body) {
      return { Table: describe(table(body.TableName)) };
    },

    DeleteTable(body) {
      const found = table(body.TableName);
      tables.delete(found.name);
      return { TableDescription: { ...describe(found), TableStatus: 'DELETING' } };
    },

    ListTables(body) {
      const limit = optionalLimit(body.Limit, 100);
      const names = [...tables.keys()].sort();
      const start =
        typeof body.ExclusiveStartTableName === 'string' ? body.ExclusiveStartTableName : undefined;
      const remaining = start === undefined ? names : names.filter((name) => name > start);
      const page = remaining.slice(0, limit ?? 100);
      const more = remaining.length > page.length;
      return { TableNames: page, ...(more ? { LastEvaluatedTableName: page[page.length - 1] } : {}) };
    },

    GetItem(body) {
      const found = table(body.TableName);
      const context = createExpressionContext(body.ExpressionAttributeNames, body.ExpressionAttributeValues);
      const projection = optionalProjection(body.ProjectionExpression, context);
      assertAllUsed(context);
      const item = found.items.get(exactKey(found, body.Key));
      return item ? { Item: projection ? project(item, projection) : cloneItem(item) } : {};
    },

    PutItem(body) {
      const found = table(body.TableName);
      rejectLegacy(body, ['Expected', 'ConditionalOperator']);
      const item = validateItem(body.Item, 'Item');
      const keyString = itemKey(found, item);
      const returnValues = oneOf(
        body.ReturnValues,
        ['NONE', 'ALL_OLD'],
        'ReturnValues can only be ALL_OLD or NONE',
      );
      const context = createExpressionContext(body.ExpressionAttributeNames, body.ExpressionAttributeValues);
      const condition = optionalCondition(body.ConditionExpression, context);
      assertAllUsed(context);
      const old = found.items.get(keyString);
      checkCondition(condition, old, context);
      found.items.set(keyString, cloneItem(item));
      return returnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
    },

    DeleteItem(body) {
      const found = table(body.TableName);
      rejectLegacy(body, ['Expected', 'ConditionalOperator']);
      const keyString = exactKey(found, body.Key);
      const returnValues = oneOf(
        body.ReturnValues,
        ['NONE', 'ALL_OLD'],
        'ReturnValues can only be ALL_OLD or NONE',
      );
      const context = createExpressionContext(body.ExpressionAttributeNames, body.ExpressionAttributeValues);
      const condition = optionalCondition(body.ConditionExpression, context);
      assertAllUsed(context);
      const old = found.items.get(keyString);
      checkCondition(condition, old, context);
      found.items.delete(keyString);
      return returnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
    },

    UpdateItem(body) {
      const found = table(body.TableName);
      rejectLegacy(body, ['AttributeUpdates', 'Expected', 'ConditionalOperator']);
      const keyString = exactKey(found, body.Key);
      const key = body.Key as Item;
      const returnValues = oneOf(
        body.ReturnValues,
        ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'],
        'ReturnValues must be one of NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW',
      );
      const context = createExpressionContext(body.ExpressionAttributeNames, body.ExpressionAttributeValues);
      const update =
        body.UpdateExpression === undefined ? undefined : parseUpdate(String(body.UpdateExpression), context);
      const condition = optionalCondition(body.ConditionExpression, context);
      assertAllUsed(context);
      const old = found.items.get(keyString);
      checkCondition(condition, old, context);
      const base: Item = old ?? cloneItem(key);
      const { item, touched } = update
        ? applyUpdate(update, base, context)
        : { item: base, touched: new Set<string>() };
      for (const attribute of [found.key.hash, found.key.range]) {
        if (attribute && touched.has(attribute.name)) {
          throw validation(
            `One or more parameter values were invalid: Cannot update attribute ${attribute.name}. This attribute is part of the key`,
          );
        }
      }
      validateItem(item, 'Item');
      found.items.set(keyString, item);
      const pick = (source: Item | undefined) =>
        Object.fromEntries(Object.entries(source ?? {}).filter(([name]) => touched.has(name)));
      const attributes =
        returnValues === 'ALL_OLD'
          ? old
          : returnValues === 'ALL_NEW'
            ? item
            : returnValues === 'UPDATED_OLD'
              ? pick(old)
              : returnValues === 'UPDATED_NEW'
                ? pick(item)
                : undefined;
      return attributes && Object.keys(attributes).length > 0 ? { Attributes: cloneItem(attributes) } : {};
    },

    BatchGetItem(body) {
      const requests = requestMap(body.RequestItems);
      const planned: {
        table: Table;
        keys: string[];
        projection?: PathSegment[][];
        request: Record<string, unknown>;
      }[] = [];
      let total = 0;
      for (const [name, raw] of Object.entries(requests)) {
        const found = table(name);
        const request = (raw ?? {}) as Record<string, unknown>;
        if (!Array.isArray(request.Keys) || request.Keys.length === 0) {
          throw validation(
            `1 validation error detected: Value at 'requestItems.${name}.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1`,
          );
        }
        const context = createExpressionContext(
          request.ExpressionAttributeNames,
          request.ExpressionAttributeValues,
        );
        const projection = optionalProjection(request.ProjectionExpression, context);
        assertAllUsed(context);
        const keys = request.Keys.map((key) => exactKey(found, key));
        if (new Set(keys).size !== keys.length)
          throw validation('Provided list of item keys contains duplicates');
        total += keys.length;
        planned.push({ table: found, keys, projection, request });
      }
      if (total > 100) {
        throw validation(
          `Too many items requested for the BatchGetItem call: ${total} keys, at most 100 are allowed`,
        );
      }
      let budget = batchProcessingLimit ?? Number.POSITIVE_INFINITY;
      const responses: Record<string, Item[]> = {};
      const unprocessed: Record<string, Record<string, unknown>> = {};
      for (const { table: found, keys, projection, request } of planned) {
        const items: Item[] = [];
        const left: unknown[] = [];
        keys.forEach((keyString, index) => {
          if (budget <= 0) {
            left.push((request.Keys as unknown[])[index]);
            return;
          }
          budget -= 1;
          const item = found.items.get(keyString);
          if (item) items.push(projection ? project(item, projection) : cloneItem(item));
        });
        responses[found.name] = items;
        if (left.length > 0) unprocessed[found.name] = { ...request, Keys: left };
      }
      return { Responses: responses, UnprocessedKeys: unprocessed };
    },

    BatchWriteItem(body) {
      const requests = requestMap(body.RequestItems);
      const planned: { table: Table; writes: { keyString: string; item?: Item; raw: unknown }[] }[] = [];
      let total = 0;
      for (const [name, raw] of Object.entries(requests)) {
        const found = table(name);
        if (!Array.isArray(raw) || raw.length === 0) {
          throw validation(
            `1 validation error detected: Value at 'requestItems.${name}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
          );
        }
        const writes = raw.map((entry: unknown) => {
          const request = (entry ?? {}) as {
            PutRequest?: { Item?: unknown };
            DeleteRequest?: { Key?: unknown };
          };
          if ((request.PutRequest === undefined) === (request.DeleteRequest === undefined)) {
            throw validation('Supplied AttributeValue has exactly one of PutRequest or DeleteRequest set');
          }
          if (request.PutRequest) {
            const item = validateItem(request.PutRequest.Item, 'Item');
            return { keyString: itemKey(found, item), item, raw: entry };
          }
          return { keyString: exactKey(found, request.DeleteRequest?.Key), raw: entry };
        });
        if (new Set(writes.map((write) => write.keyString)).size !== writes.length) {
          throw validation('Provided list of item keys contains duplicates');
        }
        total += writes.length;
        planned.push({ table: found, writes });
      }
      if (total > 25) {
        throw validation(
          `1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]`,
        );
      }
      let budget = batchProcessingLimit ?? Number.POSITIVE_INFINITY;
      const unprocessed: Record<string, unknown[]> = {};
      for (const { table: found, writes } of planned) {
        for (const write of writes) {
          if (budget <= 0) {
            unprocessed[found.name] ??= [];
            unprocessed[found.name]?.push(write.raw);
            continue;
          }
          budget -= 1;
          if (write.item) found.items.set(write.keyString, cloneItem(write.item));
          else found.items.delete(write.keyString);
        }
      }
      return { UnprocessedItems: unprocessed };
    },

    Query(body) {
      const found = table(body.TableName);
      if (body.IndexName !== undefined)
        throw validation(`The table does not have the specified index: ${String(body.IndexName)}`);
      rejectLegacy(body, ['KeyConditions', 'QueryFilter', 'AttributesToGet', 'ConditionalOperator']);
      if (typeof body.KeyConditionExpression !== 'string') {
        throw validation(
          'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
        );
      }
      const context = createExpressionContext(body.ExpressionAttributeNames, body.ExpressionAttributeValues);
      const keyCondition = parseCondition(body.KeyConditionExpression, context, 'KeyConditionExpression');
      const hashValue = checkKeyCondition(found, keyCondition, context);
      const filter = optionalCondition(body.FilterExpression, context, 'FilterExpression');
      const projection = optionalProjection(body.ProjectionExpression, context);
      assertAllUsed(context);
      const hashName = found.key.hash.name;
      let candidates = sortedItems(found).filter((item) => {
        const hash = item[hashName];
        return (
          hash !== undefined &&
          compareValues(hash, hashValue) === 0 &&
          evaluateCondition(keyCondition, item, context)
        );
      });
      const forward = body.ScanIndexForward !== false;
      if (!forward) candidates.reverse();
      if (body.ExclusiveStartKey !== undefined) {
        const start = validateStartKey(found, body.ExclusiveStartKey);
        candidates = candidates.filter((item) => {
          const order = compareKeys(found, item, start);
          return forward ? order > 0 : order < 0;
        });
      }
      return readPage(found, candidates, body, filter, projection, context);
    },

    Scan(body) {
      const found = table(body.TableName);
      if (body.IndexName !== undefined)
        throw validation(`The table does not have the specified index: ${String(body.IndexName)}`);
      rejectLegacy(body, ['ScanFilter', 'AttributesToGet', 'ConditionalOperator']);
      const context = createExpressionContext(body.ExpressionAttributeNames, body.ExpressionAttributeValues);
      const filter = optionalCondition(body.FilterExpression, context, 'FilterExpression');
      const projection = optionalProjection(body.ProjectionExpression, context);
      assertAllUsed(context);
      let candidates = sortedItems(found);
      const segments = parseSegments(body.Segment, body.TotalSegments);
      if (segments) {
        candidates = candidates.filter(
          (item) => segmentOf(itemKey(found, item), segments.total) === segments.segment,
        );
      }
      if (body.ExclusiveStartKey !== undefined) {
        const start = validateStartKey(found, body.ExclusiveStartKey);
        candidates = candidates.filter((item) => compareKeys(found, item, start) > 0);
      }
      return readPage(found, candidates, body, filter, projection, context);
    },
  };

  function describe(found: Table) {
    const attributes = [found.key.hash, found.key.range].filter((attribute) => attribute !== undefined);
    return {
      TableName: found.name,
      TableArn: `arn:aws:dynamodb:us-east-1:${accountId}:table/${found.name}`,
      TableId: found.tableId,
      TableStatus: 'ACTIVE',
      CreationDateTime: found.createdAt.getTime() / 1000,
      AttributeDefinitions: attributes.map((attribute) => ({
        AttributeName: attribute.name,
        AttributeType: attribute.type,
      })),
      KeySchema: [
        { AttributeName: found.key.hash.name, KeyType: 'HASH' },
        ...(found.key.range ? [{ AttributeName: found.key.range.name, KeyType: 'RANGE' }] : []),
      ],
      ItemCount: found.items.size,
      TableSizeBytes: [...found.items.values()].reduce((sum, item) => sum + JSON.stringify(item).length, 0),
      ProvisionedThroughput: {
        ReadCapacityUnits: found.readCapacity,
        WriteCapacityUnits: found.writeCapacity,
        NumberOfDecreasesToday: 0,
      },
      BillingModeSummary: { BillingMode: found.billingMode },
      DeletionProtectionEnabled: false,
    };
  }

  function readPage(
    found: Table,
    candidates: Item[],
    body: Record<string, unknown>,
    filter: Condition | undefined,
    projection: PathSegment[][] | undefined,
    context: ExpressionContext,
  ) {
    const limit = optionalLimit(body.Limit);
    const select = oneOf(
      body.Select,
      ['ALL_ATTRIBUTES', 'COUNT', 'SPECIFIC_ATTRIBUTES'],
      'Select must be ALL_ATTRIBUTES, COUNT or SPECIFIC_ATTRIBUTES on a table',
    );
    if (select === 'SPECIFIC_ATTRIBUTES' && !projection) {
      throw validation('Select SPECIFIC_ATTRIBUTES needs a ProjectionExpression');
    }
    if (select && select !== 'SPECIFIC_ATTRIBUTES' && select !== 'ALL_ATTRIBUTES' && projection) {
      throw validation('Cannot specify the ProjectionExpression when choosing to get only the COUNT');
    }
    const items: Item[] = [];
    let scanned = 0;
    let bytes = 0;
    let last: Item | undefined;
    for (const item of candidates) {
      // Limit and the 1 MB cap count items read, before the filter, as in DynamoDB.
      if (limit !== undefined && scanned >= limit) break;
      if (bytes >= pageByteLimit) break;
      scanned += 1;
      bytes += JSON.stringify(item).length;
      last = item;
      if (filter && !evaluateCondition(filter, item, context)) continue;
      items.push(projection ? project(item, projection) : cloneItem(item));
    }
    // A full page always carries LastEvaluatedKey, even when nothing follows: DynamoDB cannot know
    // without reading on, so callers must accept one empty last page.
    const pageFull = (limit !== undefined && scanned >= limit) || bytes >= pageByteLimit;
    const lastKey = pageFull && last ? keyOf(found, last) : undefined;
    return {
      ...(select === 'COUNT' ? {} : { Items: items }),
      Count: items.length,
      ScannedCount: scanned,
      ...(lastKey ? { LastEvaluatedKey: lastKey } : {}),
    };
  }

  const service: DynamoDbService = {
    name: 'dynamodb',
    identify: (request: EmulatorRequest) => targetOperation(request, targetPrefix),
    handle(operation: string, request: EmulatorRequest): EmulatorResponse {
      const handler = (handlers as Record<string, (body: Record<string, unknown>) => unknown>)[operation];
      if (!handler)
        throw new AwsError('UnknownOperationException', 400, `The emulator does not implement ${operation}`);
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: handler(parseJsonBody(request)),
      };
    },
    renderError(error: AwsError) {
      // The core's generic names become the ones DynamoDB itself uses.
      const type = error.type === 'InternalServerException' ? 'InternalServerError' : error.type;
      return renderJsonProtocolError(new AwsError(type, error.status, error.message), errorNamespace);
    },
    control(action, body) {
      if (action === 'createTable') {
        service.createTable(String(body.name), body.key as { hash: string; range?: string });
        return { created: body.name };
      }
      if (action === 'itemCount') return { count: service.itemCount(String(body.table)) };
      if (action === 'items') return { items: service.items(String(body.table)) };
      if (action === 'setBatchProcessingLimit') {
        service.setBatchProcessingLimit(typeof body.limit === 'number' ? body.limit : undefined);
        return { limit: batchProcessingLimit ?? null };
      }
      if (action === 'reset') {
        service.reset();
        return { reset: true };
      }
      throw new Error(`Unknown dynamodb control ${action}`);
    },
    createTable(name, key) {
      const attribute = (value: string | KeyAttribute): KeyAttribute =>
        typeof value === 'string' ? { name: value, type: 'S' } : value;
      addTable(
        requireTableName(name),
        { hash: attribute(key.hash), ...(key.range ? { range: attribute(key.range) } : {}) },
        'PAY_PER_REQUEST',
      );
    },
    itemCount(name) {
      return table(name).items.size;
    },
    items(name) {
      return sortedItems(table(name)).map(cloneItem);
    },
    setBatchProcessingLimit(limit) {
      batchProcessingLimit = limit;
    },
    reset() {
      tables.clear();
      batchProcessingLimit = undefined;
    },
  };
  return service;
}

// ---------------------------------------------------------------------------------------------
// Keys

function requireTableName(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[a-zA-Z0-9_.-]{3,255}$/.test(raw)) {
    throw validation(
      `1 validation error detected: Value '${String(raw)}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length from 3 to 255`,
    );
  }
  return raw;
}

function parseKeySchema(rawSchema: unknown, rawDefinitions: unknown): KeyDefinition {
  if (!Array.isArray(rawSchema) || rawSchema.length < 1 || rawSchema.length > 2) {
    throw validation(
      '1 validation error detected: KeySchema must have one HASH and at most one RANGE element',
    );
  }
  const definitions = new Map<string, KeyType>();
  for (const definition of Array.isArray(rawDefinitions) ? rawDefinitions : []) {
    const { AttributeName: name, AttributeType: type } = (definition ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || !keyTypes.includes(type as KeyType)) {
      throw validation(
        'One or more parameter values were invalid: AttributeDefinitions need a name and a type of S, N or B',
      );
    }
    definitions.set(name, type as KeyType);
  }
  if (definitions.size !== rawSchema.length) {
    throw validation(
      'One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
    );
  }
  const attribute = (role: 'HASH' | 'RANGE'): KeyAttribute | undefined => {
    const entries = rawSchema.filter((entry) => (entry as Record<string, unknown>)?.KeyType === role);
    if (entries.length > 1)
      throw validation(
        `Too many ${role} keys specified.  All Dynamo DB tables must have exactly one hash key and no more than one range key`,
      );
    const name = (entries[0] as Record<string, unknown> | undefined)?.AttributeName;
    if (name === undefined) return undefined;
    const type = definitions.get(String(name));
    if (!type) {
      throw validation(
        `One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${String(name)}]`,
      );
    }
    return { name: String(name), type };
  };
  const hash = attribute('HASH');
  if (!hash)
    throw validation(
      'One or more parameter values were invalid: No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key',
    );
  const range = attribute('RANGE');
  return range ? { hash, range } : { hash };
}

function keyPart(attribute: KeyAttribute, value: AttributeValue | undefined, missing: string): string {
  if (value === undefined) throw validation(missing);
  validateValue(value, attribute.name);
  const type = typeOf(value);
  if (type !== attribute.type) {
    throw validation(
      `One or more parameter values were invalid: Type mismatch for key ${attribute.name} expected: ${attribute.type} actual: ${type}`,
    );
  }
  const text = value[type] as string;
  if (type !== 'N' && text.length === 0) {
    throw validation(
      `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${type === 'S' ? 'string' : 'binary'} value. Key: ${attribute.name}`,
    );
  }
  if (type === 'N') return canonicalNumber(text);
  if (type === 'B') return Buffer.from(text, 'base64').toString('base64');
  return text;
}

/** The canonical key string of a full item (PutItem), which must carry the key attributes. */
function itemKey(found: Table, item: Item): string {
  const parts = [found.key.hash, found.key.range]
    .filter((attribute) => attribute !== undefined)
    .map((attribute) =>
      keyPart(
        attribute,
        item[attribute.name],
        `One or more parameter values were invalid: Missing the key ${attribute.name} in the item`,
      ),
    );
  return JSON.stringify(parts);
}

/** The canonical key string of a Key parameter, which must hold exactly the key attributes. */
function exactKey(found: Table, raw: unknown): string {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw validation('The provided key element does not match the schema');
  }
  const key = raw as Item;
  const expected = [found.key.hash.name, found.key.range?.name].filter((name) => name !== undefined);
  const names = Object.keys(key);
  if (names.length !== expected.length || !expected.every((name) => names.includes(name))) {
    throw validation('The provided key element does not match the schema');
  }
  return itemKey(found, key);
}

function validateStartKey(found: Table, raw: unknown): Item {
  exactKey(found, raw);
  return raw as Item;
}

function keyOf(found: Table, item: Item): Item {
  const key: Item = { [found.key.hash.name]: cloneItem(item[found.key.hash.name] as AttributeValue) };
  if (found.key.range) key[found.key.range.name] = cloneItem(item[found.key.range.name] as AttributeValue);
  return key;
}

function compareKeys(found: Table, left: Item, right: Item): number {
  for (const attribute of [found.key.hash, found.key.range]) {
    if (!attribute) continue;
    const order =
      compareValues(left[attribute.name] as AttributeValue, right[attribute.name] as AttributeValue) ?? 0;
    if (order !== 0) return order;
  }
  return 0;
}

/** A stable order for Scan and Query paging: by hash key, then range key. */
function sortedItems(found: Table): Item[] {
  return [...found.items.values()].sort((left, right) => compareKeys(found, left, right));
}

function segmentOf(keyString: string, total: number): number {
  let hash = 0;
  for (const character of keyString) hash = (hash * 31 + (character.codePointAt(0) ?? 0)) >>> 0;
  return hash % total;
}

function parseSegments(segment: unknown, total: unknown): { segment: number; total: number } | undefined {
  if (segment === undefined && total === undefined) return undefined;
  if (
    typeof segment !== 'number' ||
    typeof total !== 'number' ||
    !Number.isInteger(segment) ||
    !Number.isInteger(total) ||
    total < 1 ||
    total > 1_000_000 ||
    segment < 0 ||
    segment >= total
  ) {
    throw validation(
      'The Segment parameter is required but was not present in the request when parameter TotalSegments is present, and Segment must be from 0 to TotalSegments - 1',
    );
  }
  return { segment, total };
}

/**
 * A key condition is `hash = :v`, optionally AND one range condition (=, <, <=, >, >=, BETWEEN,
 * begins_with). Returns the hash value the query is bound to.
 */
function checkKeyCondition(found: Table, condition: Condition, context: ExpressionContext): AttributeValue {
  const parts = condition.kind === 'and' ? [condition.left, condition.right] : [condition];
  let hashValue: AttributeValue | undefined;
  let rangeSeen = false;
  const keyName = (operand: { kind: string; path?: PathSegment[] }) =>
    operand.kind === 'path' && operand.path?.length === 1 && operand.path[0]?.kind === 'name'
      ? operand.path[0].name
      : undefined;
  for (const part of parts) {
    if (part.kind === 'compare' && part.operator !== '<>') {
      const leftName = keyName(part.left);
      const rightName = keyName(part.right);
      const name = leftName ?? rightName;
      const valueOperand = leftName !== undefined ? part.right : part.left;
      if (name === undefined || valueOperand.kind !== 'value') {
        throw validation(
          'Invalid KeyConditionExpression: a key condition compares a key attribute with a value',
        );
      }
      if (name === found.key.hash.name && part.operator === '=' && hashValue === undefined) {
        hashValue = context.values[valueOperand.name];
        continue;
      }
      if (name === found.key.range?.name && !rangeSeen) {
        rangeSeen = true;
        continue;
      }
      throw validation(`Query condition missed key schema element: ${found.key.hash.name}`);
    }
    if (part.kind === 'between' || (part.kind === 'function' && part.name === 'begins_with')) {
      const operand = part.kind === 'between' ? part.operand : part.args[0];
      if (!operand || keyName(operand) !== found.key.range?.name || rangeSeen) {
        throw validation('Query key condition not supported');
      }
      rangeSeen = true;
      continue;
    }
    throw validation(`Invalid operator used in KeyConditionExpression: ${part.kind.toUpperCase()}`);
  }
  if (hashValue === undefined)
    throw validation(`Query condition missed key schema element: ${found.key.hash.name}`);
  if (typeOf(hashValue) !== found.key.hash.type) {
    throw validation(
      'One or more parameter values were invalid: Condition parameter type does not match schema type',
    );
  }
  return hashValue;
}

// ---------------------------------------------------------------------------------------------
// Small request helpers

function optionalCondition(
  raw: unknown,
  context: ExpressionContext,
  label: 'ConditionExpression' | 'FilterExpression' = 'ConditionExpression',
): Condition | undefined {
  if (raw === undefined) return undefined;
  return parseCondition(String(raw), context, label);
}

function optionalProjection(raw: unknown, context: ExpressionContext): PathSegment[][] | undefined {
  if (raw === undefined) return undefined;
  return parseProjection(String(raw), context);
}

function checkCondition(
  condition: Condition | undefined,
  item: Item | undefined,
  context: ExpressionContext,
): void {
  if (condition && !evaluateCondition(condition, item, context)) {
    throw new AwsError('ConditionalCheckFailedException', 400, 'The conditional request failed');
  }
}

function optionalLimit(raw: unknown, maximum = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > maximum) {
    throw validation(
      `1 validation error detected: Value '${String(raw)}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  }
  return raw;
}

function oneOf<T extends string>(raw: unknown, allowed: readonly T[], message: string): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw validation(message);
  return raw as T;
}

function rejectLegacy(body: Record<string, unknown>, names: string[]): void {
  const used = names.find((name) => body[name] !== undefined);
  if (used) throw validation(`The emulator supports expressions only, not the legacy parameter ${used}`);
}

function requestMap(raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || Object.keys(raw).length === 0) {
    throw validation(
      "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null",
    );
  }
  return raw as Record<string, unknown>;
}
