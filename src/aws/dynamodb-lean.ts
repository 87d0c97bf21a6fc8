// The lean request path (lean.ts) for the delete gate's DynamoDB requests: BatchWriteItem (the
// tombstones and their outcomes) and BatchGetItem (the protected-name reads), one or more for every
// few deletions. Answers are read by the SDK's own deserializer (attribute values may hold binary
// data), and failed attempts are retried by the client's own SDK retry strategy, as through `send`.
import {
  BatchGetItem$,
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  BatchWriteItem$,
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { LeanRequestPath } from './lean.ts';

/** The tables a batch request names: its endpoint parameter (ResourceArnList) in DynamoDB's rules. */
const tablesOf = (input: BatchWriteItemCommandInput | BatchGetItemCommandInput) =>
  Object.keys(input.RequestItems ?? {}).join('\n');

/**
 * Writes a batch request's body as DynamoDB's JSON protocol has it: the input's own JSON, binary
 * attribute values (B, BS) in base64. The SDK's schema-driven serializer writes the same JSON member
 * by member, and was the largest part of a tombstone call's CPU (docs/scale.md); the two are compared
 * on every attribute type in test/aws/lean-gate.test.ts. For inputs typed as the SDK declares them:
 * members left undefined or null are dropped, as the SDK drops them; what JSON could only write
 * otherwise than the SDK (null or undefined in a list, a Set, an ArrayBuffer) is refused with a
 * TypeError before anything is sent.
 */
export function writeBatchBody(input: BatchWriteItemCommandInput | BatchGetItemCommandInput): string {
  return JSON.stringify(input, function asTheSdkWrites(this: unknown, key, value) {
    const original = key === '' ? value : (this as Record<string, unknown>)[key];
    if (original instanceof Uint8Array) {
      return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
    }
    if (original instanceof Set || original instanceof ArrayBuffer) {
      throw new TypeError(`DynamoDB batch request: '${key}' must be an array or a Uint8Array`);
    }
    if (value === null || value === undefined) {
      if (Array.isArray(this)) {
        throw new TypeError('DynamoDB batch request: a list holds null or undefined');
      }
      return undefined;
    }
    return value;
  });
}

/**
 * A DynamoDBClient whose BatchWriteItem and BatchGetItem skip the middleware stack. Construct it
 * exactly like a DynamoDBClient; every other command, and a DynamoDBDocumentClient built on it, goes
 * through the SDK's own `send`.
 */
export class LeanDynamoDBClient extends DynamoDBClient {
  private readonly leanPath = new LeanRequestPath(
    this,
    [
      {
        schema: BatchWriteItem$,
        command: BatchWriteItemCommand,
        write: writeBatchBody,
        endpointKey: tablesOf,
      },
      { schema: BatchGetItem$, command: BatchGetItemCommand, write: writeBatchBody, endpointKey: tablesOf },
    ],
    'client strategy',
  );

  // biome-ignore lint/suspicious/noExplicitAny: overrides every overload of Client.send at once.
  override send(command: any, optionsOrCallback?: any, callback?: any): any {
    return this.leanPath.route(command, optionsOrCallback, callback, () =>
      super.send(command, optionsOrCallback, callback),
    );
  }
}
