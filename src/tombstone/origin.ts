// Proof of origin for tombstones: the sweep MACs what it writes with a KMS HMAC key that only its role
// may use for GenerateMac, and restore checks that MAC with VerifyMac (which only the RestoreRole may
// call) before it creates anything. An item written by anyone else (planted with the table's write
// access, altered after writing, or copied from another stack's or table's tombstones) does not verify.
//
// What is MACed: for each tombstone item, the SHA-256 of a canonical serialization of every field
// restore reads (its key, group, name, run id, deletion time, finished time, stuck, ARN, the SHA-256
// of the stored definition bytes, the delete's outcome and its time, the expiry), together with the
// table's ARN (partition, account, Region and name). One GenerateMac covers every tombstone item of
// one BatchWriteItem call (up to 25): its message is a fixed header followed by the items' 32-byte
// digests in order, well under GenerateMac's 4,096-byte limit. Each item stores that MAC (`mac`) and
// the digests (`macBatch`), so restore checks one item alone: its own digest must be in the batch, and
// the batch must verify. KMS facts: KMS API Reference, GenerateMac and VerifyMac (Message 1-4,096
// bytes; MacAlgorithm HMAC_SHA_256 for an HMAC_256 key; a MAC that does not match answers
// KMSInvalidMacException, never MacValid false).
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GenerateMacCommand, type KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { safeError } from '../redact.ts';

export const MAC_ALGORITHM = 'HMAC_SHA_256';
/** Bytes of one item digest (SHA-256). */
export const DIGEST_BYTES = 32;
const ITEM_VERSION = 'schedule-hygiene tombstone v1';
const BATCH_HEADER = Buffer.from('schedule-hygiene tombstone batch v1\n');

/**
 * A KMS key ARN or alias ARN: arn:<partition>:kms:<region>:<12-digit account>:key/<key id> or
 * …:alias/<name> (KMS Developer Guide, "Key identifiers (KeyId)": key ids are UUIDs, multi-Region
 * ones start mrk-; alias names are 1-256 of a-z A-Z 0-9 / _ -).
 */
export const MAC_KEY_ARN =
  /^arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:(?:key\/[a-zA-Z0-9-]{1,128}|alias\/[a-zA-Z0-9/_-]{1,250})$/;
/** An alias name as the stack's environment gives it (alias/<name>): the key in the caller's account and Region. */
export const MAC_KEY_ALIAS = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

/** The ARN of a stack's resource: its partition, Region and account (a KMS key, alias or function ARN). */
const STACK_ARN = /^arn:(aws[a-z-]*):[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):/;

export interface MacKey {
  kms: KMSClient;
  /** The HMAC_256 key: its ARN, its alias's ARN, or (the sweep) its alias name. */
  keyId: string;
}

/**
 * The ARN of the tombstone table `tableName` in the partition, Region and account of `stackArn`, an
 * ARN of the same stack (its MAC key's or alias's, or the sweep function's): the identity every MAC
 * covers, so an item copied from another table or stack does not verify.
 */
export function tableArnFor(stackArn: string, tableName: string): string {
  const match = STACK_ARN.exec(stackArn);
  if (!match) throw new Error('the tombstone table identity needs an ARN of its stack (MAC key or function)');
  return `arn:${match[1]}:dynamodb:${match[2]}:${match[3]}:table/${tableName}`;
}

/** The SHA-256 (32 bytes) of a tombstone item's canonical serialization, bound to its table. */
export function itemDigest(tableArn: string, item: Record<string, AttributeValue>): Buffer {
  const text = (name: string) => item[name]?.S ?? null;
  const definition = item.definition?.S;
  const canonical = JSON.stringify([
    ITEM_VERSION,
    tableArn,
    text('pk'),
    text('sk'),
    text('kind'),
    text('group'),
    text('name'),
    text('runId'),
    text('deletedAt'),
    text('finishedAt'),
    item.stuck?.BOOL ?? null,
    text('arn'),
    definition === undefined ? null : createHash('sha256').update(definition).digest('hex'),
    text('sha256'),
    text('outcome'),
    text('outcomeAt'),
    item.ttl?.N ?? null,
  ]);
  return createHash('sha256').update(canonical).digest();
}

const batchMessage = (digests: Uint8Array) => Buffer.concat([BATCH_HEADER, digests]);

/**
 * MACs a batch of tombstone items (one GenerateMac) and sets `mac` and `macBatch` on each. Throws
 * what KMS throws: the caller treats the batch as not written.
 */
export async function signItems(
  key: MacKey,
  tableArn: string,
  items: readonly Record<string, AttributeValue>[],
): Promise<void> {
  if (items.length === 0) return;
  const digests = Buffer.concat(
    items.map((item) => {
      const { mac: _mac, macBatch: _batch, ...signed } = item;
      return itemDigest(tableArn, signed);
    }),
  );
  const answer = await key.kms.send(
    new GenerateMacCommand({
      KeyId: key.keyId,
      Message: batchMessage(digests),
      MacAlgorithm: MAC_ALGORITHM,
    }),
  );
  if (!answer.Mac) throw new Error('GenerateMac answered without a Mac');
  for (const item of items) {
    item.mac = { B: answer.Mac };
    item.macBatch = { B: digests };
  }
}

/** What restore learns of a tombstone's origin. */
export type OriginVerdict = { verified: true } | { verified: false; reason: string };

/**
 * Checks tombstone items against the MAC key, one VerifyMac per distinct batch (a sweep's batch of up
 * to 25 items costs one request however many of its tombstones are restored). Never throws: an item
 * it cannot verify, for whatever reason, gets `verified: false` with the reason.
 */
export function createOriginVerifier(key: MacKey, tableArn: string) {
  const batches = new Map<string, Promise<OriginVerdict>>();
  const verifyBatch = async (mac: Uint8Array, digests: Uint8Array): Promise<OriginVerdict> => {
    try {
      const answer = await key.kms.send(
        new VerifyMacCommand({
          KeyId: key.keyId,
          Message: batchMessage(digests),
          Mac: mac,
          MacAlgorithm: MAC_ALGORITHM,
        }),
      );
      // VerifyMac answers KMSInvalidMacException for a MAC that does not match; anything but an
      // explicit true is refused all the same.
      return answer.MacValid === true
        ? { verified: true }
        : { verified: false, reason: 'VerifyMac did not confirm its MAC' };
    } catch (error) {
      const { name, message } = safeError(error);
      if (name === 'KMSInvalidMacException') {
        return {
          verified: false,
          reason: "its MAC does not verify: not written by this stack's sweep, or altered since",
        };
      }
      return {
        verified: false,
        reason: `its MAC could not be verified (${name}${message ? `: ${message}` : ''})`,
      };
    }
  };
  return async (item: Record<string, AttributeValue>): Promise<OriginVerdict> => {
    const mac = item.mac?.B;
    const digests = item.macBatch?.B;
    if (!mac || !digests) return { verified: false, reason: 'it carries no MAC: not written by the sweep' };
    if (digests.length === 0 || digests.length % DIGEST_BYTES !== 0 || digests.length > 100 * DIGEST_BYTES) {
      return { verified: false, reason: 'its MAC batch is malformed' };
    }
    const { mac: _mac, macBatch: _batch, ...signed } = item;
    const own = itemDigest(tableArn, signed);
    let listed = false;
    for (let at = 0; at < digests.length; at += DIGEST_BYTES) {
      if (Buffer.compare(Buffer.from(digests.subarray(at, at + DIGEST_BYTES)), own) === 0) listed = true;
    }
    if (!listed) {
      return {
        verified: false,
        reason:
          'its fields do not match what its MAC covers: altered since it was written, or from another table',
      };
    }
    const cacheKey = `${Buffer.from(mac).toString('base64')}/${Buffer.from(digests).toString('base64')}`;
    let verdict = batches.get(cacheKey);
    if (!verdict) {
      verdict = verifyBatch(mac, digests);
      batches.set(cacheKey, verdict);
    }
    return verdict;
  };
}

export type OriginVerifier = ReturnType<typeof createOriginVerifier>;
