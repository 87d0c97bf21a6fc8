// Proof of origin for tombstones: restore recreates nothing the sweep cannot be shown to have written.
// An item written by anyone else (planted with the table's write access, altered after writing, or
// copied from another stack's or table's tombstones) does not verify.
//
// What is covered: for each tombstone item, the SHA-256 of a canonical serialization of every field
// restore reads (its key, group, name, run id, deletion time, finished time, stuck, ARN, the SHA-256
// of the stored definition bytes, the delete's outcome and its time, the expiry), together with the
// table's ARN (partition, account, Region and name). A BatchWriteItem call's tombstone items (up to
// 25) are covered together: the message is a fixed header followed by their 32-byte digests in order.
// Each item stores the digests, so restore checks one item alone: its own digest must be in the
// batch, and the batch must verify.
//
// Two ways of covering a batch; restore accepts both, the sweep writes the second:
// - v1 (`mac`, `macBatch`): one KMS GenerateMac per call, with the stack's HMAC key that only the
//   SweepRole may use for GenerateMac; restore checks it with VerifyMac (only the RestoreRole may).
// - v2 (`signature`, `signedBatch`, `signingKey`, `signingKeyMac`): a signing key of the invocation.
//   The sweep makes an Ed25519 key pair in memory when its store is made; the private key never
//   leaves the process. A GenerateMac certifies the public key for one scope: the table's ARN, one
//   sweep run and one UTC hour of deletion times (`signingKeyMac`; restore works the scope out from
//   the item's `runId` and `deletedAt`), so one per run and hour, about one per invocation. Each call's
//   items are signed locally (Ed25519, node:crypto, about 80 µs here), in batches that share a
//   scope and a state: first writes (pending) apart from outcomes, so a settled tombstone's proof
//   never vouches for another tombstone's pending state. Restore checks the signature with the public
//   key and the key's MAC with VerifyMac. Forging a v2 item needs the invocation's private key or a
//   GenerateMac over another key or scope, as a v1 item needs a GenerateMac; the same two IAM grants
//   hold. Someone who once read the invocation's memory could sign tombstones of its runs and hours
//   only. Why v2: v1 put a KMS round trip on the path of every tombstone write, before its
//   BatchWriteItem, which a delete waits for (docs/scale.md).
//   Left: a pending first write is in a signed batch with up to seven others. While one of those is
//   pending (before its outcome is written, or for good if its outcome never is: an invocation
//   stopped, or the outcome's write failed), its stored proof vouches for the others' pending states:
//   someone able both to read the table (the RestoreRole) and to write it (the SweepRole) could put a
//   settled tombstone back as pending. v1 signed first writes and outcomes together, so any pending
//   v1 tombstone can be; v1 items expire with the retention (docs/restore.md).
//
// KMS facts: KMS API Reference, GenerateMac and VerifyMac (Message 1-4,096 bytes; MacAlgorithm
// HMAC_SHA_256 for an HMAC_256 key; a MAC that does not match answers KMSInvalidMacException, never
// MacValid false). Ed25519: RFC 8032; node:crypto sign/verify with a null algorithm.
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GenerateMacCommand, type KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { safeError } from '../redact.ts';

export const MAC_ALGORITHM = 'HMAC_SHA_256';
/** Bytes of one item digest (SHA-256). */
export const DIGEST_BYTES = 32;
const ITEM_VERSION = 'schedule-hygiene tombstone v1';
const BATCH_HEADER = Buffer.from('schedule-hygiene tombstone batch v1\n');
const SIGNED_BATCH_HEADER = Buffer.from('schedule-hygiene tombstone batch v2\n');
const SIGNING_KEY_HEADER = Buffer.from('schedule-hygiene tombstone signing key v2\n');
/** Bytes of an Ed25519 signature (RFC 8032). */
const SIGNATURE_BYTES = 64;
/** Most digests one batch holds: BatchWriteItem takes 25 items; room for a future layout. */
const MAX_BATCH_DIGESTS = 100;

/** The attributes that carry an item's proof of origin, v1 and v2: never covered by its digest. */
export const ORIGIN_ATTRIBUTES = [
  'mac',
  'macBatch',
  'signature',
  'signedBatch',
  'signingKey',
  'signingKeyMac',
] as const;

/**
 * The item without its proof of origin: what an outcome puts again, signed anew. (Its digest needs no
 * copy: itemDigest reads only the fields it covers, never these.)
 */
export function withoutOrigin(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const rest = { ...item };
  for (const name of ORIGIN_ATTRIBUTES) delete rest[name];
  return rest;
}

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
const signedBatchMessage = (digests: Uint8Array) => Buffer.concat([SIGNED_BATCH_HEADER, digests]);

/**
 * The most items one signature covers. Each item stores the digests of every item signed with it (32
 * bytes each), so 8 keeps an item's proof at about 440 bytes at most, attribute names included: a
 * tombstone of about 1.5 KB stays within 2 write units (1 KB each), where a call of 25 outcomes
 * signed together would add 800 bytes to each. One Ed25519 signature costs about 80 µs.
 */
export const MAX_SIGNED_ITEMS = 8;

/** The span of deletion times one certificate of a signing key covers: one UTC hour. */
export const SIGNING_KEY_SPAN_MS = 3_600_000;

/** What a certificate of a signing key covers: the table, one sweep run, one hour of deletion times. */
export interface SigningKeyScope {
  tableArn: string;
  runId: string;
  /** The start of the UTC hour holding the tombstones' `deletedAt`, as an ISO 8601 string. */
  hour: string;
}

/**
 * The scope of a tombstone item (its run and the hour of its `deletedAt`), or undefined without a run
 * id or with a `deletedAt` not in the store's form (ISO 8601 in UTC with milliseconds).
 */
function scopeOf(tableArn: string, item: Record<string, AttributeValue>): SigningKeyScope | undefined {
  const runId = item.runId?.S;
  const text = item.deletedAt?.S ?? '';
  const deletedAt = Date.parse(text);
  // Only the form the store writes (toISOString): another form Date.parse reads would sort and
  // compare differently in the table's keys and time ranges.
  if (!runId || Number.isNaN(deletedAt) || new Date(deletedAt).toISOString() !== text) return undefined;
  const hour = new Date(Math.floor(deletedAt / SIGNING_KEY_SPAN_MS) * SIGNING_KEY_SPAN_MS).toISOString();
  return { tableArn, runId, hour };
}

/**
 * What a signing key's MAC covers: the header, the scope as a JSON array (its strings escaped, so it
 * ends unambiguously), a NUL, the key's SPKI DER bytes.
 */
const signingKeyMessage = (scope: SigningKeyScope, spki: Uint8Array) =>
  Buffer.concat([
    SIGNING_KEY_HEADER,
    Buffer.from(JSON.stringify([scope.tableArn, scope.runId, scope.hour]), 'utf8'),
    Buffer.from([0]),
    spki,
  ]);

/** Signs batches of tombstone items for one store (one invocation): see the file's header, v2. */
export interface TombstoneSigner {
  /**
   * Sets `signature`, `signedBatch`, `signingKey` and `signingKeyMac` on each item, replacing any
   * proof it carried. Items are signed in groups of at most MAX_SIGNED_ITEMS that share a run, an hour
   * of `deletedAt` and a state (pending, or settled): a first write is never in the same signed batch
   * as an outcome. The first
   * group of a run and hour sends its GenerateMac (again after a failed one); throws what KMS throws,
   * and the caller treats the call as not written. Throws for an item with no `runId`, or a
   * `deletedAt` not as toISOString writes it.
   */
  sign(items: readonly Record<string, AttributeValue>[]): Promise<void>;
}

/** A signer with a new Ed25519 key pair, held only in memory, for tombstones of `tableArn`. */
export function createTombstoneSigner(key: MacKey, tableArn: string): TombstoneSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  /** The key's MAC for each scope it was certified for, by the scope's run and hour (the table is one). */
  const certificates = new Map<string, Promise<Uint8Array>>();
  const certify = async (message: Buffer): Promise<Uint8Array> => {
    const answer = await key.kms.send(
      new GenerateMacCommand({ KeyId: key.keyId, Message: message, MacAlgorithm: MAC_ALGORITHM }),
    );
    if (!answer.Mac) throw new Error('GenerateMac answered without a Mac');
    return answer.Mac;
  };
  const certificateFor = async (scope: SigningKeyScope): Promise<Uint8Array> => {
    const cacheKey = JSON.stringify([scope.runId, scope.hour]);
    let certified = certificates.get(cacheKey);
    if (!certified) {
      certified = certify(signingKeyMessage(scope, spki));
      certificates.set(cacheKey, certified);
    }
    try {
      return await certified;
    } catch (error) {
      // The next group asks again (the store retries throttling and 5xx).
      if (certificates.get(cacheKey) === certified) certificates.delete(cacheKey);
      throw error;
    }
  };
  const signGroup = async (scope: SigningKeyScope, items: Record<string, AttributeValue>[]) => {
    const signingKeyMac = await certificateFor(scope);
    const digests = Buffer.concat(items.map((item) => itemDigest(tableArn, item)));
    const signature = sign(null, signedBatchMessage(digests), privateKey);
    for (const item of items) {
      for (const name of ORIGIN_ATTRIBUTES) delete item[name];
      item.signature = { B: signature };
      item.signedBatch = { B: digests };
      item.signingKey = { B: spki };
      item.signingKeyMac = { B: signingKeyMac };
    }
  };
  return {
    async sign(items) {
      const groups = new Map<string, { scope: SigningKeyScope; items: Record<string, AttributeValue>[] }>();
      for (const item of items) {
        const scope = scopeOf(tableArn, item);
        if (!scope) {
          throw new Error(
            'A tombstone item to sign needs its runId and a deletedAt as toISOString writes it (YYYY-MM-DDTHH:mm:ss.sssZ)',
          );
        }
        const state = item.outcome?.S === 'pending' ? 'pending' : 'settled';
        const groupKey = JSON.stringify([scope.runId, scope.hour, state]);
        const group = groups.get(groupKey) ?? { scope, items: [] };
        group.items.push(item as Record<string, AttributeValue>);
        groups.set(groupKey, group);
      }
      const signings: Promise<void>[] = [];
      for (const group of groups.values()) {
        for (let at = 0; at < group.items.length; at += MAX_SIGNED_ITEMS) {
          signings.push(signGroup(group.scope, group.items.slice(at, at + MAX_SIGNED_ITEMS)));
        }
      }
      await Promise.all(signings);
    },
  };
}

/** What restore learns of a tombstone's origin. */
export type OriginVerdict = { verified: true } | { verified: false; reason: string };

/** Why an item whose digest is not in its batch is refused. */
const NOT_COVERED =
  'its fields do not match what its proof of origin covers: altered since it was written, or from another table';
const NOT_VERIFIED = "its MAC does not verify: not written by this stack's sweep, or altered since";
const NOT_SIGNED = "its signature does not verify: not written by this stack's sweep, or altered since";
const KEY_NOT_VERIFIED =
  "its signing key's MAC does not verify for its run, hour and table: not written by this stack's sweep, or altered since";

/** The digests of a batch if they are well formed (1 to MAX_BATCH_DIGESTS of DIGEST_BYTES each). */
function digestsOf(value: AttributeValue | undefined): Uint8Array | undefined {
  const digests = value?.B;
  if (!digests || digests.length === 0 || digests.length % DIGEST_BYTES !== 0) return undefined;
  return digests.length > MAX_BATCH_DIGESTS * DIGEST_BYTES ? undefined : digests;
}

/** Whether `own` is one of the batch's digests. */
function listed(digests: Uint8Array, own: Buffer): boolean {
  for (let at = 0; at < digests.length; at += DIGEST_BYTES) {
    if (own.equals(digests.subarray(at, at + DIGEST_BYTES))) return true;
  }
  return false;
}

/** An Ed25519 public key from its SPKI DER bytes, or undefined for anything else. */
function ed25519Key(spki: Uint8Array): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** A fixed-size cache key for byte strings: their SHA-256, each part length-prefixed. */
function cacheKeyOf(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    hash.update(length).update(part);
  }
  return hash.digest('base64');
}

/**
 * Checks tombstone items against the MAC key: v1 items with one VerifyMac per distinct batch, v2 items
 * with one VerifyMac per distinct signing key and a local signature check per distinct batch (see the
 * file's header). Never throws: an item it cannot verify, for whatever reason, gets
 * `verified: false` with the reason.
 */
export function createOriginVerifier(key: MacKey, tableArn: string) {
  // Only definite answers are kept (a MAC that verified, or KMSInvalidMacException): a throttled or
  // failed VerifyMac is asked again for the next item that needs it.
  const macs = new Map<string, Promise<OriginVerdict>>();
  const signatures = new Map<string, boolean>();
  const verifyMac = async (
    mac: Uint8Array,
    message: Buffer,
    invalid: string,
  ): Promise<OriginVerdict & { definite: boolean }> => {
    try {
      const answer = await key.kms.send(
        new VerifyMacCommand({ KeyId: key.keyId, Message: message, Mac: mac, MacAlgorithm: MAC_ALGORITHM }),
      );
      // VerifyMac answers KMSInvalidMacException for a MAC that does not match; anything but an
      // explicit true is refused all the same.
      return answer.MacValid === true
        ? { verified: true, definite: true }
        : { verified: false, reason: 'VerifyMac did not confirm its MAC', definite: false };
    } catch (error) {
      const { name, message: text } = safeError(error);
      if (name === 'KMSInvalidMacException') return { verified: false, reason: invalid, definite: true };
      return {
        verified: false,
        reason: `its MAC could not be verified (${name}${text ? `: ${text}` : ''})`,
        definite: false,
      };
    }
  };
  /** One VerifyMac per distinct (MAC, message) answered definitely: a batch or key met again costs none. */
  const verifyMacOnce = async (mac: Uint8Array, message: Buffer, invalid: string): Promise<OriginVerdict> => {
    const cacheKey = cacheKeyOf(mac, message);
    let pending = macs.get(cacheKey);
    if (!pending) {
      const asked = verifyMac(mac, message, invalid).then((answer) => {
        if (!answer.definite && macs.get(cacheKey) === asked) macs.delete(cacheKey);
        const { definite: _definite, ...verdict } = answer;
        return verdict;
      });
      pending = asked;
      macs.set(cacheKey, pending);
    }
    return pending;
  };
  /** Checks an item's proof of one version, given the item's own digest. */
  type ProofCheck = (
    item: Record<string, AttributeValue>,
    own: Buffer,
  ) => Promise<OriginVerdict> | OriginVerdict;
  const verifyV1: ProofCheck = (item, own) => {
    const mac = item.mac?.B;
    const digests = digestsOf(item.macBatch);
    if (!mac || !digests) return { verified: false, reason: 'its MAC batch is malformed' };
    if (!listed(digests, own)) return { verified: false, reason: NOT_COVERED };
    return verifyMacOnce(mac, batchMessage(digests), NOT_VERIFIED);
  };
  const verifyV2: ProofCheck = (item, own) => {
    const signature = item.signature?.B;
    const digests = digestsOf(item.signedBatch);
    const spki = item.signingKey?.B;
    const keyMac = item.signingKeyMac?.B;
    const publicKey = spki ? ed25519Key(spki) : undefined;
    if (!signature || signature.length !== SIGNATURE_BYTES || !digests || !spki || !publicKey || !keyMac) {
      return { verified: false, reason: 'its signature or signing key is malformed' };
    }
    const scope = scopeOf(tableArn, item);
    if (!scope) return { verified: false, reason: 'its run or deletion time is malformed' };
    if (!listed(digests, own)) return { verified: false, reason: NOT_COVERED };
    const signatureKey = cacheKeyOf(spki, signature, digests);
    let signed = signatures.get(signatureKey);
    if (signed === undefined) {
      signed = verify(null, signedBatchMessage(digests), publicKey, signature);
      signatures.set(signatureKey, signed);
    }
    if (!signed) return { verified: false, reason: NOT_SIGNED };
    // The key's MAC: only the sweep's role can have made it, for this table, run and hour.
    return verifyMacOnce(keyMac, signingKeyMessage(scope, spki), KEY_NOT_VERIFIED);
  };
  return async (item: Record<string, AttributeValue>): Promise<OriginVerdict> => {
    const v1 = item.mac !== undefined || item.macBatch !== undefined;
    const v2 = ['signature', 'signedBatch', 'signingKey', 'signingKeyMac'].some(
      (name) => item[name] !== undefined,
    );
    if (!v1 && !v2) return { verified: false, reason: 'it carries no MAC: not written by the sweep' };
    if (v1 && v2)
      return { verified: false, reason: 'it carries two proofs of origin: not written by the sweep' };
    const own = itemDigest(tableArn, item);
    return v1 ? verifyV1(item, own) : verifyV2(item, own);
  };
}

export type OriginVerifier = ReturnType<typeof createOriginVerifier>;
