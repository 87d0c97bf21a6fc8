// The lean request path of the delete gate's DynamoDB and KMS requests (BatchWriteItem, BatchGetItem,
// GenerateMac) against the SDK's own send: the same bodies on the wire, the same outputs (binary
// attribute values and MACs as bytes), the same errors, and the SDK's retries of a 5xx.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { GenerateMacCommand, NotFoundException } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTransient } from '../../src/aws/budget.ts';
import { createDynamoDbClient, createKmsClient } from '../../src/aws/clients.ts';
import { LeanDynamoDBClient, writeBatchBody } from '../../src/aws/dynamodb-lean.ts';
import { LeanKMSClient } from '../../src/aws/kms-lean.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { createTombstoneTable, TOMBSTONE_TABLE, tombstoneMacKey } from '../support/tombstones.ts';

const env = useTestEmulator();

const sdkDynamoDb = () => createDynamoDbClient(env.clientOptions);
const leanDynamoDb = () => createDynamoDbClient({ ...env.clientOptions, leanRequestPath: true });

/** An item with every attribute type DynamoDB has, binary ones included. */
const everyType = (sk: string): Record<string, AttributeValue> => ({
  pk: { S: 'lean#every-type' },
  sk: { S: sk },
  text: { S: 'quotes " and \\ and é and \u2028' },
  number: { N: '-12.5e3' },
  binary: { B: new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]) },
  strings: { SS: ['a', 'b'] },
  numbers: { NS: ['1', '2.5'] },
  binaries: { BS: [new Uint8Array([1]), Buffer.from('buffer too')] },
  map: { M: { nested: { L: [{ S: 'x' }, { NULL: true }, { BOOL: false }] } } },
  flag: { BOOL: true },
  none: { NULL: true },
});

/** What the two paths must agree on: the whole output, $metadata but for the request id. */
function comparable(output: { $metadata?: object }) {
  const { $metadata, ...rest } = output as { $metadata: { requestId?: string } };
  return { ...rest, $metadata: { ...$metadata, requestId: typeof $metadata.requestId } };
}

/** Every request body the client's HTTP handler sends, as sent (lean and SDK paths alike). */
function recordBodies(client: DynamoDBClient): string[] {
  const bodies: string[] = [];
  const handler = client.config.requestHandler as {
    handle(request: { body?: unknown }, options?: unknown): Promise<unknown>;
  };
  const handle = handler.handle.bind(handler);
  handler.handle = (request, options) => {
    const { body } = request;
    bodies.push(typeof body === 'string' ? body : new TextDecoder().decode(body as Uint8Array));
    return handle(request, options);
  };
  return bodies;
}

beforeEach(async () => {
  await env.emulator.services.dynamodb.reset();
  await createTombstoneTable(env);
  env.emulator.plane.faults.reset();
});

describe('lean DynamoDB path: bodies and outputs', () => {
  it('writes the same JSON body as the SDK serializer, every attribute type, blobs in base64', async () => {
    // Prepare
    const input: BatchWriteItemCommandInput = {
      RequestItems: {
        [TOMBSTONE_TABLE]: [
          { PutRequest: { Item: everyType('1') } },
          { DeleteRequest: { Key: { pk: { S: 'lean#every-type' }, sk: { S: 'gone' } } } },
        ],
      },
      ReturnConsumedCapacity: 'TOTAL',
    };
    const sdk = sdkDynamoDb();
    const lean = leanDynamoDb();
    const sdkBodies = recordBodies(sdk);
    const leanBodies = recordBodies(lean);

    // Act
    await sdk.send(new BatchWriteItemCommand(input));
    await lean.send(new BatchWriteItemCommand(input));
    const getInput = {
      RequestItems: {
        [TOMBSTONE_TABLE]: {
          Keys: [{ pk: { S: 'lean#every-type' }, sk: { S: '1' } }],
          ConsistentRead: true,
          ProjectionExpression: '#b, pk',
          ExpressionAttributeNames: { '#b': 'binary' },
        },
      },
    };
    await sdk.send(new BatchGetItemCommand(getInput));
    await lean.send(new BatchGetItemCommand(getInput));

    // Assess
    expect(leanBodies.map((body) => JSON.parse(body))).toEqual(sdkBodies.map((body) => JSON.parse(body)));
    expect(JSON.parse(writeBatchBody(input)).RequestItems[TOMBSTONE_TABLE][0].PutRequest.Item.binary).toEqual(
      {
        B: Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]).toString('base64'),
      },
    );
  });

  it('reads the same BatchGetItem output as the SDK, binary values as bytes', async () => {
    // Prepare
    await sdkDynamoDb().send(
      new BatchWriteItemCommand({
        RequestItems: { [TOMBSTONE_TABLE]: [{ PutRequest: { Item: everyType('2') } }] },
      }),
    );
    const input = {
      RequestItems: { [TOMBSTONE_TABLE]: { Keys: [{ pk: { S: 'lean#every-type' }, sk: { S: '2' } }] } },
    };

    // Act
    const viaSdk = await sdkDynamoDb().send(new BatchGetItemCommand(input));
    const viaLean = await leanDynamoDb().send(new BatchGetItemCommand(input));

    // Assess
    expect(comparable(viaLean)).toEqual(comparable(viaSdk));
    const item = viaLean.Responses?.[TOMBSTONE_TABLE]?.[0];
    expect(item?.binary?.B).toBeInstanceOf(Uint8Array);
    expect([...(item?.binary?.B ?? [])]).toEqual([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    expect(viaLean.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 });
  });

  it('raises the same modeled error as the SDK, and leaves every other command to the SDK', async () => {
    // Prepare
    const input = { RequestItems: { 'no-such-table': [{ PutRequest: { Item: everyType('3') } }] } };

    // Act
    const viaSdk = await sdkDynamoDb()
      .send(new BatchWriteItemCommand(input))
      .catch((error: Error) => error);
    const viaLean = await leanDynamoDb()
      .send(new BatchWriteItemCommand(input))
      .catch((error: Error) => error);
    const described = await leanDynamoDb().send(new DescribeTableCommand({ TableName: TOMBSTONE_TABLE }));

    // Assess
    expect(viaSdk).toBeInstanceOf(ResourceNotFoundException);
    expect(viaLean).toBeInstanceOf(ResourceNotFoundException);
    expect({ name: (viaLean as Error).name, message: (viaLean as Error).message }).toEqual({
      name: (viaSdk as Error).name,
      message: (viaSdk as Error).message,
    });
    expect(described.Table?.TableName).toBe(TOMBSTONE_TABLE);
  });
});

describe('lean KMS path', () => {
  it('answers GenerateMac with the same MAC bytes as the SDK, and the same error for an unknown key', async () => {
    // Prepare
    const keyId = tombstoneMacKey(env);
    const input = { KeyId: keyId, MacAlgorithm: 'HMAC_SHA_256' as const, Message: Buffer.from('digest') };
    const sdk = createKmsClient(env.clientOptions);
    const lean = createKmsClient({ ...env.clientOptions, leanRequestPath: true });

    // Act
    const viaSdk = await sdk.send(new GenerateMacCommand(input));
    const viaLean = await lean.send(new GenerateMacCommand(input));
    const missing = {
      ...input,
      KeyId: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
    };
    const sdkError = await sdk.send(new GenerateMacCommand(missing)).catch((error: Error) => error);
    const leanError = await lean.send(new GenerateMacCommand(missing)).catch((error: Error) => error);

    // Assess
    expect(lean).toBeInstanceOf(LeanKMSClient);
    expect(comparable(viaLean)).toEqual(comparable(viaSdk));
    expect(viaLean.Mac).toBeInstanceOf(Uint8Array);
    expect(sdkError).toBeInstanceOf(NotFoundException);
    expect(leanError).toBeInstanceOf(NotFoundException);
  });
});

describe('lean DynamoDB path: retries as the SDK makes them', () => {
  let server: Awaited<ReturnType<typeof scriptedServer>>;
  beforeEach(async () => {
    server = await scriptedServer();
  });
  afterEach(async () => {
    await server.close();
  });

  /** A DynamoDB client through the SDK's send, then one through the lean path, both to the server. */
  const bothPaths = () => {
    const options = {
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    };
    return [createDynamoDbClient(options), new LeanDynamoDBClient(options)];
  };
  const input = { RequestItems: { table: [{ PutRequest: { Item: { pk: { S: 'x' } } } }] } };

  it('retries a 5xx with the client strategy as the SDK does; a 4xx is not retried', async () => {
    // Prepare: per client, one 500 then success, then a 400 ValidationException
    const outcomes = [];

    // Act
    for (const client of bothPaths()) {
      server.answers.push(500, 200, 400);
      const output = await client.send(new BatchWriteItemCommand(input));
      const refused = await client.send(new BatchWriteItemCommand(input)).catch((error: Error) => error);
      outcomes.push({
        attempts: output.$metadata.attempts,
        refused: (refused as Error).name,
        refusedAttempts: (refused as { $metadata?: { attempts?: number } }).$metadata?.attempts,
      });
    }

    // Assess
    expect(outcomes[1]).toEqual({ attempts: 2, refused: 'ValidationException', refusedAttempts: 1 });
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(server.answers).toEqual([]);
  });

  it('retries a 5xx whose body is not JSON (a proxy page) as the SDK does, and gives up with its status', async () => {
    // Prepare: per client, an HTML 503 then success; then HTML 503s until it gives up
    const outcomes = [];

    // Act
    for (const client of bothPaths()) {
      server.answers.splice(0, server.answers.length, { html: 503 }, 200);
      // More proxy pages than the client's strategy makes attempts (DynamoDB's default is the SDK's)
      for (let page = 0; page < 10; page += 1) server.answers.push({ html: 503 });
      const output = await client.send(new BatchWriteItemCommand(input));
      const failed = (await client
        .send(new BatchWriteItemCommand(input))
        .catch((error: unknown) => error)) as {
        $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
        $response?: { statusCode?: number };
      };
      outcomes.push({
        attempts: output.$metadata.attempts,
        failedStatus: failed.$metadata?.httpStatusCode,
        failedAttempts: failed.$metadata?.attempts,
        requestId: failed.$metadata?.requestId,
        rawStatus: failed.$response?.statusCode,
        transient: isTransient(failed),
      });
    }

    // Assess
    expect(outcomes[1]).toEqual({
      attempts: 2,
      failedStatus: 503,
      failedAttempts: outcomes[0]?.failedAttempts,
      requestId: 'proxy',
      rawStatus: 503,
      transient: true,
    });
    expect(outcomes[1]?.failedAttempts).toBeGreaterThan(1);
    expect(outcomes[1]).toEqual(outcomes[0]);
  });

  it("honours an answer's Retry-After and reports the wait in totalRetryDelay", async () => {
    // Prepare: per client, a 503 asking for a second's wait, then success
    const waits = [];

    // Act
    for (const client of bothPaths()) {
      server.answers.push({ status: 503, retryAfterSeconds: 1 }, 200);
      const started = performance.now();
      const output = await client.send(new BatchWriteItemCommand(input));
      waits.push({
        attempts: output.$metadata.attempts,
        waited: performance.now() - started >= 900,
        reported: (output.$metadata.totalRetryDelay ?? 0) >= 900,
      });
    }

    // Assess
    expect(waits[1]).toEqual({ attempts: 2, waited: true, reported: true });
    expect(waits[1]).toEqual(waits[0]);
  });

  it('stops waiting for a retry when the abort signal fires', async () => {
    // Prepare: a 503 asking for a minute's wait
    const client = bothPaths()[1]!;
    server.answers.push({ status: 503, retryAfterSeconds: 60 }, 200);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const started = performance.now();

    // Act
    const failure = (await client
      .send(
        new BatchWriteItemCommand({
          RequestItems: { table: [{ DeleteRequest: { Key: { pk: { S: 'x' } } } }] },
        }),
        {
          abortSignal: abort.signal,
        },
      )
      .catch((error: unknown) => error)) as { $metadata?: { httpStatusCode?: number; attempts?: number } };

    // Assess: the 503 it gave up on, one attempt, well before the minute
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(failure.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 1 });
    expect(server.answers).toEqual([200]);
  });
});

describe('lean DynamoDB path: what its body writer refuses', () => {
  it('drops null members as the SDK does, and refuses what JSON would write otherwise than the SDK', () => {
    const key = { pk: { S: 'x' } };
    const withNull = {
      RequestItems: { table: [{ DeleteRequest: { Key: key } }] },
      ReturnConsumedCapacity: null,
    } as unknown as BatchWriteItemCommandInput;
    expect(JSON.parse(writeBatchBody(withNull))).toEqual({
      RequestItems: { table: [{ DeleteRequest: { Key: key } }] },
    });
    const holeInList = { RequestItems: { table: [undefined] } } as unknown as BatchWriteItemCommandInput;
    expect(() => writeBatchBody(holeInList)).toThrow(/a list holds null or undefined/);
    const setOfStrings = {
      RequestItems: { table: [{ PutRequest: { Item: { tags: { SS: new Set(['a']) } } } }] },
    } as unknown as BatchWriteItemCommandInput;
    expect(() => writeBatchBody(setOfStrings)).toThrow(/'SS' must be an array or a Uint8Array/);
  });
});

/**
 * Answers each request with the next status queued: DynamoDB's JSON error shape for errors, or, for a
 * status queued as `{ html: status }`, a proxy's HTML page.
 */
async function scriptedServer() {
  const answers: (number | { html: number } | { status: number; retryAfterSeconds: number })[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const answer = answers.shift() ?? 500;
      if (typeof answer === 'object' && 'retryAfterSeconds' in answer) {
        response.writeHead(answer.status, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': 'scripted',
          'retry-after': String(answer.retryAfterSeconds),
        });
        response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError' }));
        return;
      }
      if (typeof answer === 'object') {
        response.writeHead(answer.html, { 'content-type': 'text/html', 'x-amzn-requestid': 'proxy' });
        response.end('<html><body>503 Service Temporarily Unavailable</body></html>');
        return;
      }
      const status = answer;
      const type = status === 400 ? 'ValidationException' : status >= 500 ? 'InternalServerError' : undefined;
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': 'scripted',
      });
      response.end(
        JSON.stringify(type ? { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: type } : {}),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
