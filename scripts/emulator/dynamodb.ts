// DynamoDB for the emulator, served by dynalite (npm `dynalite`, an independent implementation of the
// DynamoDB API on an in-memory LevelDB): conditional writes, update and condition expressions,
// batches, Query and Scan with DynamoDB's paging, secondary indexes. The emulator stays one HTTP
// server: requests with x-amz-target DynamoDB_20120810.* pass through its dispatch (rate caps,
// latency, the fault layer, call counters) and are then relayed to a dynalite listening on a
// loopback port of its own. What dynalite lacks and the tests need is added here, around the relay:
// a cap on how much of each batch is processed (UnprocessedKeys / UnprocessedItems) and
// ReturnValuesOnConditionCheckFailure.
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import {
  AwsError,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  parseJsonBody,
  renderJsonProtocolError,
  targetOperation,
  unknownControl,
} from './core.ts';

const targetPrefix = 'DynamoDB_20120810.';
const errorNamespace = 'com.amazonaws.dynamodb.v20120810#';

export type Item = Record<string, AttributeValue>;
export type KeyType = 'S' | 'N' | 'B';
export interface KeyAttribute {
  name: string;
  type: KeyType;
}

export interface DynamoDbService extends EmulatedService {
  /** Creates an empty ACTIVE on-demand table; a bare attribute name means a string key. */
  createTable(
    name: string,
    key: { hash: string | KeyAttribute; range?: string | KeyAttribute },
  ): Promise<void>;
  itemCount(table: string): Promise<number>;
  /** The stored items, in scan order. */
  items(table: string): Promise<Item[]>;
  /**
   * At most this many requests of each BatchGetItem / BatchWriteItem call are processed; the rest
   * come back as UnprocessedKeys / UnprocessedItems, as under throttling. undefined: all processed.
   */
  setBatchProcessingLimit(limit: number | undefined): void;
  /** Drops every table. */
  reset(): Promise<void>;
  /** Stops the dynalite server. */
  close(): Promise<void>;
}

/** One pool of kept-alive loopback connections to dynalite: a new connection per request costs more than the request. */
const relayAgent = new Agent({ keepAlive: true });

interface Backend {
  port: number;
  close(): Promise<void>;
}

interface Relayed {
  status: number;
  body: Record<string, unknown>;
}

export function createDynamoDbService(): DynamoDbService {
  let backend: Promise<Backend> = startBackend();
  let batchProcessingLimit: number | undefined;
  // Setup calls (reset, createTable) take effect before any request that arrives after them, awaited
  // or not, so a test's synchronous-looking setup cannot race its first request.
  let setup: Promise<unknown> = Promise.resolve();
  function inOrder<T>(work: () => Promise<T>): Promise<T> {
    const run = setup.then(work);
    setup = run.catch(() => undefined);
    return run;
  }
  /** Key attribute names per table, learned from DescribeTable, for ReturnValuesOnConditionCheckFailure. */
  const keyNames = new Map<string, string[]>();

  async function relay(
    operation: string,
    body: unknown,
    headers: EmulatorRequest['headers'] = {},
  ): Promise<Relayed> {
    const { port } = await backend;
    const payload = JSON.stringify(body);
    return new Promise<Relayed>((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          headers: {
            // dynalite checks that a request is signed, not the signature.
            authorization:
              headers.authorization ??
              'AWS4-HMAC-SHA256 Credential=emulator/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
            'x-amz-date': headers['x-amz-date'] ?? '20200101T000000Z',
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `${targetPrefix}${operation}`,
            'content-length': Buffer.byteLength(payload),
          },
          agent: relayAgent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            try {
              parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
            } catch {
              parsed = { __type: 'com.amazon.coral.service#SerializationException', message: text };
            }
            resolve({ status: response.statusCode ?? 500, body: parsed });
          });
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  /** An in-process call: the answer, or the error dynalite gave, as an AwsError. */
  async function call(operation: string, body: unknown): Promise<Record<string, unknown>> {
    const answer = await relay(operation, body);
    if (answer.status >= 300) throw toAwsError(answer);
    return answer.body;
  }

  async function keyNamesOf(table: string): Promise<string[]> {
    let names = keyNames.get(table);
    if (!names) {
      const described = (await call('DescribeTable', { TableName: table })) as {
        Table?: { KeySchema?: { AttributeName: string }[] };
      };
      names = (described.Table?.KeySchema ?? []).map((element) => element.AttributeName);
      keyNames.set(table, names);
    }
    return names;
  }

  /** Relays a batch call with at most `limit` of its requests; the rest are returned unprocessed. */
  async function limitedBatch(
    operation: 'BatchGetItem' | 'BatchWriteItem',
    body: Record<string, unknown>,
    headers: EmulatorRequest['headers'],
    limit: number,
  ): Promise<Relayed> {
    const requestItems = (body.RequestItems ?? {}) as Record<string, unknown>;
    const sent: Record<string, unknown> = {};
    const held: Record<string, unknown> = {};
    let budget = limit;
    for (const [table, entry] of Object.entries(requestItems)) {
      const requests =
        operation === 'BatchGetItem' ? (entry as { Keys?: unknown[] }).Keys : (entry as unknown[]);
      if (!Array.isArray(requests)) return relay(operation, body, headers); // let dynalite refuse it
      const taken = requests.slice(0, Math.max(budget, 0));
      const left = requests.slice(taken.length);
      budget -= taken.length;
      const wrap = (list: unknown[]) =>
        operation === 'BatchGetItem' ? { ...(entry as object), Keys: list } : list;
      if (taken.length > 0) sent[table] = wrap(taken);
      if (left.length > 0) held[table] = wrap(left);
    }
    const unprocessedKey = operation === 'BatchGetItem' ? 'UnprocessedKeys' : 'UnprocessedItems';
    if (Object.keys(held).length === 0) return relay(operation, body, headers);
    if (Object.keys(sent).length === 0) {
      return {
        status: 200,
        body: { ...(operation === 'BatchGetItem' ? { Responses: {} } : {}), [unprocessedKey]: held },
      };
    }
    const answer = await relay(operation, { ...body, RequestItems: sent }, headers);
    if (answer.status >= 300) return answer;
    const unprocessed = { ...((answer.body[unprocessedKey] as Record<string, unknown>) ?? {}) };
    for (const [table, entry] of Object.entries(held)) {
      const earlier = unprocessed[table];
      unprocessed[table] =
        operation === 'BatchGetItem'
          ? {
              ...(entry as object),
              Keys: [
                ...((earlier as { Keys?: unknown[] })?.Keys ?? []),
                ...(entry as { Keys: unknown[] }).Keys,
              ],
            }
          : [...((earlier as unknown[]) ?? []), ...(entry as unknown[])];
    }
    return { status: answer.status, body: { ...answer.body, [unprocessedKey]: unprocessed } };
  }

  /**
   * dynalite ignores ReturnValuesOnConditionCheckFailure; DynamoDB returns the item as it stood when
   * the condition failed. The item is read right after the failure (the emulator serves one process,
   * so only a write racing in the same instant could slip between the two).
   */
  async function withItemOnConditionFailure(
    operation: string,
    body: Record<string, unknown>,
    answer: Relayed,
  ): Promise<Relayed> {
    const failed = String(answer.body.__type ?? '').endsWith('#ConditionalCheckFailedException');
    if (!failed || body.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') return answer;
    const table = String(body.TableName);
    let key = body.Key as Item | undefined;
    if (operation === 'PutItem') {
      const item = (body.Item ?? {}) as Item;
      key = Object.fromEntries((await keyNamesOf(table)).map((name) => [name, item[name]])) as Item;
    }
    const current = (await call('GetItem', { TableName: table, Key: key, ConsistentRead: true })) as {
      Item?: Item;
    };
    return current.Item ? { status: answer.status, body: { ...answer.body, Item: current.Item } } : answer;
  }

  const service: DynamoDbService = {
    name: 'dynamodb',
    identify: (request: EmulatorRequest) => targetOperation(request, targetPrefix),
    async handle(operation: string, request: EmulatorRequest): Promise<EmulatorResponse> {
      const body = parseJsonBody(request);
      await setup;
      let answer: Relayed;
      if (
        (operation === 'BatchGetItem' || operation === 'BatchWriteItem') &&
        batchProcessingLimit !== undefined
      ) {
        answer = await limitedBatch(operation, body, request.headers, batchProcessingLimit);
      } else {
        answer = await relay(operation, body, request.headers);
      }
      if (operation === 'PutItem' || operation === 'UpdateItem' || operation === 'DeleteItem') {
        answer = await withItemOnConditionFailure(operation, body, answer);
      }
      if (operation === 'DeleteTable' && answer.status < 300) keyNames.delete(String(body.TableName));
      // dynalite's answer goes out as it gave it: errors keep their own __type and message.
      return {
        status: answer.status,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: answer.body,
      };
    },
    renderError(error: AwsError) {
      // The core's generic names become the ones DynamoDB itself uses.
      const type = error.type === 'InternalServerException' ? 'InternalServerError' : error.type;
      return renderJsonProtocolError(new AwsError(type, error.status, error.message), errorNamespace);
    },
    async control(action, body) {
      if (action === 'createTable') {
        await service.createTable(String(body.name), body.key as { hash: string; range?: string });
        return { created: body.name };
      }
      if (action === 'itemCount') return { count: await service.itemCount(String(body.table)) };
      if (action === 'items') return { items: await service.items(String(body.table)) };
      if (action === 'setBatchProcessingLimit') {
        service.setBatchProcessingLimit(typeof body.limit === 'number' ? body.limit : undefined);
        return { limit: batchProcessingLimit ?? null };
      }
      if (action === 'reset') {
        await service.reset();
        return { reset: true };
      }
      throw unknownControl(
        `Unknown dynamodb control ${action}; expected createTable, itemCount, items, setBatchProcessingLimit or reset`,
      );
    },
    createTable(name, key) {
      return inOrder(() => createTableNow(name, key));
    },
    async itemCount(name) {
      await setup;
      let count = 0;
      let start: unknown;
      do {
        const page = await call('Scan', {
          TableName: name,
          Select: 'COUNT',
          ...(start ? { ExclusiveStartKey: start } : {}),
        });
        count += Number(page.Count ?? 0);
        start = page.LastEvaluatedKey;
      } while (start);
      return count;
    },
    async items(name) {
      await setup;
      const items: Item[] = [];
      let start: unknown;
      do {
        const page = await call('Scan', { TableName: name, ...(start ? { ExclusiveStartKey: start } : {}) });
        items.push(...((page.Items as Item[] | undefined) ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    setBatchProcessingLimit(limit) {
      batchProcessingLimit = limit;
    },
    reset() {
      // A fresh in-memory store is the quickest way to drop every table.
      batchProcessingLimit = undefined;
      return inOrder(async () => {
        const previous = backend;
        backend = startBackend();
        keyNames.clear();
        await backend;
        await (await previous).close();
      });
    },
    async close() {
      await (await backend).close();
    },
  };

  async function createTableNow(
    name: string,
    key: { hash: string | KeyAttribute; range?: string | KeyAttribute },
  ): Promise<void> {
    const attribute = (value: string | KeyAttribute): KeyAttribute =>
      typeof value === 'string' ? { name: value, type: 'S' } : value;
    const elements = [
      { ...attribute(key.hash), role: 'HASH' },
      ...(key.range ? [{ ...attribute(key.range), role: 'RANGE' }] : []),
    ];
    await call('CreateTable', {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: elements.map((element) => ({ AttributeName: element.name, KeyType: element.role })),
      AttributeDefinitions: elements.map((element) => ({
        AttributeName: element.name,
        AttributeType: element.type,
      })),
    });
    await waitForTable(name);
  }

  /** dynalite answers CreateTable with CREATING and turns ACTIVE on its next tick. */
  async function waitForTable(name: string): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const described = (await call('DescribeTable', { TableName: name })) as {
        Table?: { TableStatus?: string };
      };
      if (described.Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`Table ${name} did not become ACTIVE`);
  }

  return service;
}

async function startBackend(): Promise<Backend> {
  // In memory (no path); tables become ACTIVE at once rather than after dynalite's default 500 ms.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** dynalite's error body (`__type` namespace#Name, `message`) as the emulator's error. */
function toAwsError(answer: Relayed): AwsError {
  const { __type, message, Message } = answer.body as { __type?: string; message?: string; Message?: string };
  const type =
    String(__type ?? 'InternalServerError')
      .split('#')
      .pop() ?? 'InternalServerError';
  return new AwsError(type, answer.status, String(message ?? Message ?? ''));
}
