// Proof of origin, through the restore CLI and the real SDK against the emulator: restore recreates
// only tombstones whose KMS MAC verifies. A tombstone planted by a principal with write access to the
// table (with or without a forged MAC), one altered after the sweep wrote it, and one copied from
// another table or another stack are each refused on their line, and nothing is created. Only the
// sweep's role may GenerateMac and only the restore role may VerifyMac: each denial keeps everything
// as it was (no delete without a MAC'd tombstone, no create without a verified one).
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { main } from '../../scripts/restore.ts';
import { createKmsClient } from '../../src/aws/clients.ts';
import { createMemoryLogger } from '../../src/log.ts';
import {
  createOriginVerifier,
  createTombstoneSigner,
  itemDigest,
  tableArnFor,
  withoutOrigin,
} from '../../src/tombstone/origin.ts';
import type { Tombstone } from '../../src/tombstone/query.ts';
import { tombstoneVerifier } from '../../src/tombstone/restore.ts';
import { shardOf } from '../../src/tombstone/store.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';
import {
  createTombstoneTable,
  resetForTombstones,
  TOMBSTONE_TABLE,
  tombstoneMacKey,
  tombstoneStore,
  tombstoneSweepHandler,
} from '../support/tombstones.ts';
import { oneTime } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const STATE_TABLE = 'schedule-hygiene-test-origin-state';
const OTHER_TABLE = 'schedule-hygiene-other-tombstones';
const NOW = new Date('2025-06-15T12:00:00Z');
const SWEEP_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/schedule-hygiene-test-SweepRole`;
const RESTORE_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/schedule-hygiene-test-RestoreRole`;
/** What an attacker wants created: an IAM call with an administrator's scheduler role. */
const ATTACK_TARGET = {
  Arn: 'arn:aws:scheduler:::aws-sdk:iam:attachUserPolicy',
  RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/admin-scheduler`,
  Input: JSON.stringify({ UserName: 'mallory', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }),
};

beforeEach(async () => {
  env.emulator.services.kms.setKeyPolicy(tombstoneMacKey(env), undefined);
  await resetForTombstones(env, STATE_TABLE, NOW);
  await createTombstoneTable(env, OTHER_TABLE);
});

const finished = (name: string): SeedDefinition =>
  oneTime({ name, at: '2025-06-01T09:00:00', zone: 'Europe/Paris', flexibleMinutes: 10 });

/** A KMS client whose calls the emulator attributes to `roleArn` (an assumed-role session of it). */
function kmsAs(roleArn: string): KMSClient {
  const accessKeyId = `ASIA${createHash('sha256').update(roleArn).digest('hex').slice(0, 16).toUpperCase()}`;
  const roleName = roleArn.split('/').at(-1);
  env.emulator.services.accounts.register(accessKeyId, ACCOUNT_ID, {
    arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/test`,
    userId: `AROATEST:${roleName}`,
  });
  return createKmsClient({ ...env.clientOptions, credentials: { accessKeyId, secretAccessKey: 'test' } });
}

async function sweepOnce(kms?: KMSClient) {
  return tombstoneSweepHandler(env, {
    stateTable: STATE_TABLE,
    namespace: 'OriginTest',
    log: createMemoryLogger(),
    ...(kms ? { kms } : {}),
  })({});
}

type RestoreOptions = { table?: string; macKey?: string; kms?: KMSClient };

/** The CLI's two steps, as an operator runs them: with --apply, the dry run first, then --apply --plan <its digest>. */
async function restore(argv: string[], options: RestoreOptions = {}) {
  if (!argv.includes('--apply')) return run(argv, options);
  const dry = await run(
    argv.filter((argument) => argument !== '--apply'),
    options,
  );
  return run([...argv, '--plan', String(dry.summary.plan)], options);
}

async function run(argv: string[], options: RestoreOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    [
      ...argv,
      '--table',
      options.table ?? TOMBSTONE_TABLE,
      '--state-table',
      STATE_TABLE,
      '--mac-key',
      options.macKey ?? tombstoneMacKey(env),
    ],
    {
      env: {},
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      interactive: false,
      scheduler: env.scheduler,
      dynamodb: env.dynamodb,
      kms: options.kms ?? env.kms,
      clock: () => env.emulator.plane.now(),
      sleep: async () => {},
    },
  );
  const summary = JSON.parse(out.at(-1) ?? '{}') as Record<string, number>;
  return { code, out, err, summary };
}

/** Every item of a table, through the SDK (binary attributes as bytes). */
async function itemsOf(table = TOMBSTONE_TABLE): Promise<Record<string, AttributeValue>[]> {
  const { Items } = await env.dynamodb.send(new ScanCommand({ TableName: table }));
  return Items ?? [];
}

async function put(item: Record<string, AttributeValue>, table = TOMBSTONE_TABLE): Promise<void> {
  await env.dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
}

/** The tombstone item of `name`, with its definition's target replaced and its SHA-256 recomputed. */
function retargeted(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const definition = JSON.parse(item.definition?.S ?? '{}') as Record<string, unknown>;
  const body = JSON.stringify({ ...definition, Target: ATTACK_TARGET });
  return {
    ...item,
    definition: { S: body },
    sha256: { S: createHash('sha256').update(body).digest('hex') },
  };
}

async function sweptTombstone(name: string): Promise<Record<string, AttributeValue>> {
  env.emulator.services.scheduler.seed([finished(name)]);
  expect(await sweepOnce()).toMatchObject({ deleted: 1 });
  const item = (await itemsOf()).find((entry) => entry.kind?.S === 'tombstone' && entry.name?.S === name);
  if (!item) throw new Error(`no tombstone of ${name}`);
  return item;
}

const creates = () => env.emulator.plane.stats.get('CreateSchedule')?.calls ?? 0;
const present = (name: string) => env.emulator.services.scheduler.has('default', name);

describe('tombstone proof of origin', () => {
  it('refuses a planted tombstone (valid shape, its own SHA-256, no MAC): reported, nothing created', async () => {
    // Prepare: a genuine tombstone's shape, under a new name, with the attacker's target and no MAC
    const genuine = await sweptTombstone('order-1');
    const shape = withoutOrigin(retargeted(genuine));
    const plantedAt = NOW.toISOString();
    const body = shape.definition?.S?.replace('"order-1"', '"planted"') ?? '';
    const shard = shardOf('default', 'planted');
    await put({
      ...shape,
      pk: { S: `g#default#${shard}` },
      sk: { S: `planted#${plantedAt}` },
      name: { S: 'planted' },
      deletedAt: { S: plantedAt },
      definition: { S: body },
      sha256: { S: createHash('sha256').update(body).digest('hex') },
    });
    // Its "by day" pointer too, where the store would put it, so a time-range restore finds it.
    await put({
      pk: { S: `d#${plantedAt.slice(0, 10)}#${shard}` },
      sk: { S: `${plantedAt}#default#planted` },
      kind: { S: 'pointer' },
      tpk: { S: `g#default#${shard}` },
      tsk: { S: `planted#${plantedAt}` },
      group: { S: 'default' },
      name: { S: 'planted' },
      deletedAt: { S: plantedAt },
      runId: shape.runId as AttributeValue,
      ttl: shape.ttl as AttributeValue,
    });

    // Act: the README's routine time-range restore
    const result = await restore(['--from', '2025-06-15T00:00:00Z', '--apply', '--keep']);

    // Assess
    expect(result.summary).toMatchObject({ found: 2, unverified: 1, restored: 1 });
    expect(result.code).toBe(1);
    expect(result.out.find((line) => line.includes('default/planted'))).toMatch(
      /^unverified\s+default\/planted .*not recreated: it carries no MAC/,
    );
    expect(present('planted')).toBe(false);
    expect(present('order-1')).toBe(true);
    expect(creates()).toBe(1);
  });

  it('refuses a planted tombstone whose MAC is forged over its own digest (v1)', async () => {
    // Prepare: everything an attacker can compute without the key: the item's digest, a random MAC
    const genuine = await sweptTombstone('order-2');
    const forged = withoutOrigin(retargeted(genuine));
    const digest = itemDigest(tableArnFor(tombstoneMacKey(env), TOMBSTONE_TABLE), forged);
    await put({ ...forged, mac: { B: randomBytes(32) }, macBatch: { B: digest } });

    // Act
    const result = await restore(['--group', 'default', '--name', 'order-2', '--apply', '--keep']);

    // Assess
    expect(result.summary).toMatchObject({ found: 1, unverified: 1, restored: 0 });
    expect(result.out[0]).toMatch(/^unverified\s+default\/order-2 .*its MAC does not verify/);
    expect(present('order-2')).toBe(false);
    expect(creates()).toBe(0);
  });

  describe('refuses a v2 tombstone forged with what the table holds', () => {
    /** An attacker's own Ed25519 key pair: its public key as SPKI DER, and a signer. */
    const attackerKey = () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      return {
        spki: publicKey.export({ format: 'der', type: 'spki' }),
        sign: (digests: Buffer) =>
          sign(
            null,
            Buffer.concat([Buffer.from('schedule-hygiene tombstone batch v2\n'), digests]),
            privateKey,
          ),
      };
    };
    const forgeries: [
      string,
      (genuine: Record<string, AttributeValue>, digest: Buffer) => Record<string, AttributeValue>,
    ][] = [
      [
        "the attacker's own key, signed by it, with a genuine item's key MAC",
        (genuine, digest) => {
          const attacker = attackerKey();
          return {
            signature: { B: attacker.sign(digest) },
            signedBatch: { B: digest },
            signingKey: { B: attacker.spki },
            signingKeyMac: genuine.signingKeyMac as AttributeValue,
          };
        },
      ],
      [
        "the sweep's genuine key and its MAC, signed by the attacker's key",
        (genuine, digest) => ({
          signature: { B: attackerKey().sign(digest) },
          signedBatch: { B: digest },
          signingKey: genuine.signingKey as AttributeValue,
          signingKeyMac: genuine.signingKeyMac as AttributeValue,
        }),
      ],
      [
        "the sweep's genuine signature, key and MAC, with the forged digest added to its batch",
        (genuine, digest) => ({
          signature: genuine.signature as AttributeValue,
          signedBatch: { B: Buffer.concat([genuine.signedBatch?.B ?? new Uint8Array(), digest]) },
          signingKey: genuine.signingKey as AttributeValue,
          signingKeyMac: genuine.signingKeyMac as AttributeValue,
        }),
      ],
      [
        'a genuine v1 MAC beside a forged v2 signature',
        (genuine, digest) => ({
          mac: { B: randomBytes(32) },
          macBatch: { B: digest },
          signature: genuine.signature as AttributeValue,
          signedBatch: genuine.signedBatch as AttributeValue,
          signingKey: genuine.signingKey as AttributeValue,
          signingKeyMac: genuine.signingKeyMac as AttributeValue,
        }),
      ],
    ];
    it.each(forgeries)('%s: unverified, nothing created', async (_label, forge) => {
      // Prepare: the genuine item of order-2b as the sweep wrote it (v2), then retargeted and forged
      const genuine = await sweptTombstone('order-2b');
      expect(genuine.signature?.B).toHaveLength(64);
      expect(genuine.mac).toBeUndefined();
      const forged = withoutOrigin(retargeted(genuine));
      const digest = itemDigest(tableArnFor(tombstoneMacKey(env), TOMBSTONE_TABLE), forged);
      await put({ ...forged, ...forge(genuine, digest) });

      // Act
      const result = await restore(['--group', 'default', '--name', 'order-2b', '--apply', '--keep']);

      // Assess
      expect(result.summary).toMatchObject({ found: 1, unverified: 1, restored: 0 });
      expect(result.out[0]).toMatch(/^unverified\s+default\/order-2b /);
      expect(result.out.join('\n')).not.toContain('attachUserPolicy');
      expect(present('order-2b')).toBe(false);
      expect(creates()).toBe(0);
    });
  });

  it('restores a tombstone an earlier sweep MACed in v1 (one GenerateMac per call), as written then', async () => {
    // Prepare: a genuine item with its v2 proof replaced by v1's, made with the stack's key as the
    // v1 store made it: the batch header and the digests, one GenerateMac.
    const genuine = await sweptTombstone('order-legacy');
    const item = withoutOrigin(genuine);
    const digest = itemDigest(tableArnFor(tombstoneMacKey(env), TOMBSTONE_TABLE), item);
    const { Mac } = await env.kms.send(
      new GenerateMacCommand({
        KeyId: tombstoneMacKey(env),
        Message: Buffer.concat([Buffer.from('schedule-hygiene tombstone batch v1\n'), digest]),
        MacAlgorithm: 'HMAC_SHA_256',
      }),
    );
    await put({ ...item, mac: { B: Mac as Uint8Array }, macBatch: { B: digest } });

    // Act
    const result = await restore(['--group', 'default', '--name', 'order-legacy', '--apply', '--keep']);

    // Assess
    expect(result.summary).toMatchObject({ found: 1, unverified: 0, restored: 1 });
    expect(present('order-legacy')).toBe(true);
  });

  it('refuses a tombstone whose target was changed after writing (SHA-256 recomputed, MAC kept)', async () => {
    // Prepare
    await put(retargeted(await sweptTombstone('order-3')));

    // Act: the dry run and the real one
    const dry = await restore(['--group', 'default', '--name', 'order-3']);
    const applied = await restore(['--group', 'default', '--name', 'order-3', '--apply', '--keep']);

    // Assess
    for (const result of [dry, applied]) {
      expect(result.summary).toMatchObject({ found: 1, unverified: 1, wouldRestore: 0, restored: 0 });
      expect(result.out[0]).toMatch(/^unverified\s+default\/order-3 .*altered since it was written/);
      expect(result.out.join('\n')).not.toContain('attachUserPolicy');
    }
    expect(present('order-3')).toBe(false);
    expect(creates()).toBe(0);
  });

  it('refuses a tombstone replayed from another table under the same key', async () => {
    // Prepare: the genuine items (tombstone and pointers) copied whole into another table
    await sweptTombstone('order-4');
    for (const item of await itemsOf()) await put(item, OTHER_TABLE);

    // Act
    const result = await restore(['--group', 'default', '--name', 'order-4', '--apply', '--keep'], {
      table: OTHER_TABLE,
    });

    // Assess
    expect(result.summary).toMatchObject({ found: 1, unverified: 1, restored: 0 });
    expect(result.out[0]).toMatch(/^unverified\s+default\/order-4 .*from another table/);
    expect(present('order-4')).toBe(false);
    expect(creates()).toBe(0);
  });

  it("refuses a tombstone replayed from another stack (written under that stack's own key)", async () => {
    // Prepare: another stack's sweep wrote order-5 under its key; its item is copied into this table
    const otherKey = env.emulator.services.kms.createHmacKey(ACCOUNT_ID, REGION, 'another stack');
    env.emulator.services.scheduler.seed([finished('order-5')]);
    expect(
      await tombstoneSweepHandler(env, {
        stateTable: STATE_TABLE,
        namespace: 'OriginTest',
        log: createMemoryLogger(),
        settings: { SWEEP_TOMBSTONE_TABLE: OTHER_TABLE, SWEEP_TOMBSTONE_MAC_KEY: otherKey },
      })({}),
    ).toMatchObject({ deleted: 1 });
    for (const item of await itemsOf(OTHER_TABLE)) await put({ ...item }, TOMBSTONE_TABLE);

    // Act
    const result = await restore(['--group', 'default', '--name', 'order-5', '--apply', '--keep']);

    // Assess: the same bytes verify with the other stack's key against its own table, never here
    expect(result.summary).toMatchObject({ found: 1, unverified: 1, restored: 0 });
    expect(present('order-5')).toBe(false);
    expect(
      (
        await restore(['--group', 'default', '--name', 'order-5', '--keep'], {
          table: OTHER_TABLE,
          macKey: otherKey,
        })
      ).summary,
    ).toMatchObject({ found: 1, wouldRestore: 1, unverified: 0 });
    expect(creates()).toBe(0);
  });

  it('does not let a planted newer tombstone hide the genuine one of that schedule', async () => {
    // Prepare: the genuine tombstone, and a planted one of the same schedule a minute newer
    const genuine = await sweptTombstone('order-6');
    const later = new Date(NOW.getTime() + 60_000).toISOString();
    const planted = withoutOrigin(retargeted(genuine));
    await put({ ...planted, sk: { S: `order-6#${later}` }, deletedAt: { S: later } });
    env.emulator.plane.setNow(new Date(NOW.getTime() + 120_000));

    // Act
    const result = await restore(['--group', 'default', '--name', 'order-6', '--apply', '--keep']);

    // Assess: the planted one refused, the genuine one recreated with its own target
    expect(result.summary).toMatchObject({ found: 2, unverified: 1, restored: 1, superseded: 0 });
    expect(env.emulator.services.scheduler.get('default', 'order-6')?.Target?.Arn).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:schedule-hygiene-target',
    );
  });

  describe('pointer items, which carry no proof of origin', () => {
    const older = 'arn:aws:lambda:us-east-1:123456789012:function:older';
    const newest = 'arn:aws:lambda:us-east-1:123456789012:function:newest';

    /** order-9 deleted on 15 and 16 June (targets `older`, `newest`); their two tombstone items. */
    async function deletedTwice() {
      const withTarget = (arn: string): SeedDefinition => {
        const base = finished('order-9');
        return { ...base, Target: { ...base.Target, Arn: arn } } as SeedDefinition;
      };
      env.emulator.services.scheduler.seed([withTarget(older)]);
      expect(await sweepOnce()).toMatchObject({ deleted: 1 });
      env.emulator.plane.setNow(new Date('2025-06-16T12:00:00Z'));
      env.emulator.services.scheduler.seed([withTarget(newest)]);
      expect(await sweepOnce()).toMatchObject({ deleted: 1 });
      env.emulator.plane.setNow(new Date('2025-06-17T12:00:00Z'));
      const tombstones = (await itemsOf()).filter((item) => item.kind?.S === 'tombstone');
      const first = tombstones.find((item) => item.deletedAt?.S?.startsWith('2025-06-15'));
      const last = tombstones.find((item) => item.deletedAt?.S?.startsWith('2025-06-16'));
      if (!first || !last) throw new Error('expected a tombstone on each day');
      return { first, last };
    }

    /** A pointer item at pk/sk naming `to` (a tombstone item, or just a key), as the table's writer could put one. */
    const pointer = (pk: string, sk: string, to: Record<string, AttributeValue>, ttl: AttributeValue) => ({
      pk: { S: pk },
      sk: { S: sk },
      kind: { S: 'pointer' },
      tpk: to.pk as AttributeValue,
      tsk: to.sk as AttributeValue,
      name: { S: 'order-9' },
      ttl,
    });

    it('follows one only from where its tombstone put it: a copied pointer cannot bring back an older definition', async () => {
      // Prepare: a pointer to the older tombstone copied into a newer day's partition, then 99
      // pointers to nothing, so that the newest tombstone's own pointer is read in a later batch
      const { first } = await deletedTwice();
      const ttl = first.ttl as AttributeValue;
      await put(pointer('d#2025-06-17#0', '2025-06-17T01:00:00.000Z#default#order-9', first, ttl));
      for (let index = 0; index < 99; index += 1) {
        const at = new Date(Date.parse('2025-06-17T00:00:00.000Z') + index * 1000).toISOString();
        const nothing = { pk: { S: 'g#none#0' }, sk: { S: `none-${index}#x` } };
        await put(pointer('d#2025-06-17#0', `${at}#default#order-9`, nothing, ttl));
      }

      // Act
      const result = await restore(['--from', '2025-06-15T00:00:00Z', '--apply', '--keep']);

      // Assess: the newest definition is back; the older tombstone is the superseded one, met once;
      // the copied pointer is reported, and the run ends with exit 1
      expect(result.summary).toMatchObject({ found: 2, restored: 1, superseded: 1, unverified: 0 });
      expect(env.emulator.services.scheduler.get('default', 'order-9')?.Target?.Arn).toBe(newest);
      expect(result.out.find((line) => line.startsWith('superseded'))).toContain('2025-06-15');
      expect(result.code).toBe(1);
      // (the copied pointer, and the 99 naming no tombstone key)
      expect(result.err.join('\n')).toMatch(/warning: 100 pointer item\(s\) were not where the sweep puts/);
    });

    it('drops pointers that name no key the store could write, and many pointers to one tombstone, at once', async () => {
      // Prepare: one pointer naming an oversized partition key, one an oversized sort key (either
      // would fail a whole BatchGetItem), and 300 more naming the older tombstone from elsewhere
      const { first } = await deletedTwice();
      const ttl = first.ttl as AttributeValue;
      const at = (second: number) =>
        new Date(Date.parse('2025-06-16T13:00:00.000Z') + second * 1000).toISOString();
      await put(
        pointer(
          'd#2025-06-16#0',
          `${at(0)}#default#a`,
          { pk: { S: `g#${'x'.repeat(3000)}` }, sk: first.sk as AttributeValue },
          ttl,
        ),
      );
      await put(
        pointer(
          'd#2025-06-16#0',
          `${at(1)}#default#b`,
          { pk: first.pk as AttributeValue, sk: { S: 'y'.repeat(1100) } },
          ttl,
        ),
      );
      for (let index = 2; index < 302; index += 1) {
        await put(pointer('d#2025-06-16#0', `${at(index)}#default#c`, first, ttl));
      }
      const batchGetsBefore = env.emulator.plane.stats.get('BatchGetItem')?.calls ?? 0;

      // Act
      const result = await restore(['--from', '2025-06-15T00:00:00Z', '--keep']);

      // Assess: the restore went on and found both tombstones; every odd pointer reported; one
      // BatchGetItem per pass (the dry run reads once)
      expect(result).toMatchObject({ code: 1, summary: { found: 2, wouldRestore: 1, superseded: 1 } });
      expect(result.out[0]).toMatch(/^wouldRestore .*newest/);
      expect(result.err.join('\n')).toMatch(/warning: 302 pointer item\(s\)/);
      expect((env.emulator.plane.stats.get('BatchGetItem')?.calls ?? 0) - batchGetsBefore).toBe(1);
    });

    it('cannot hide a tombstone from --group and --name, which read its partition without pointers', async () => {
      // Prepare: the newest tombstone's own pointers deleted (as its writer could delete the tombstone)
      const { last } = await deletedTwice();
      for (const item of await itemsOf()) {
        if (item.kind?.S === 'pointer' && item.tsk?.S === last.sk?.S) {
          await env.dynamodb.send(
            new DeleteItemCommand({
              TableName: TOMBSTONE_TABLE,
              Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue },
            }),
          );
        }
      }

      // Act
      const byRange = await restore(['--from', '2025-06-15T00:00:00Z', '--keep']);
      const byName = await restore(['--group', 'default', '--name', 'order-9', '--keep']);

      // Assess: a time range no longer meets the newest (docs/restore.md says so); its name does
      expect(byRange.summary).toMatchObject({ found: 1 });
      expect(byRange.out[0]).toMatch(/^wouldRestore .*older/);
      expect(byName.summary).toMatchObject({ found: 2, wouldRestore: 1, superseded: 1 });
      expect(byName.out[0]).toMatch(/^wouldRestore .*newest/);
    });

    it('reads a tombstone two pointers name once: one BatchGetItem never names a key twice', async () => {
      // Prepare: beside the newest tombstone's own pointer, a second one naming it
      const { last } = await deletedTwice();
      const shard = shardOf('default', 'order-9');
      const sk = '2025-06-16T00:00:00.000Z#default#order-9';
      await put(pointer(`d#2025-06-16#${shard}`, sk, last, last.ttl as AttributeValue));

      // Act
      const result = await restore(['--from', '2025-06-15T00:00:00Z', '--apply', '--keep']);

      // Assess: read once, restored; the second pointer reported
      expect(result).toMatchObject({ code: 1, summary: { found: 2, restored: 1, superseded: 1 } });
      expect(env.emulator.services.scheduler.get('default', 'order-9')?.Target?.Arn).toBe(newest);
      expect(result.err.join('\n')).toMatch(/warning: 1 pointer item\(s\)/);
    });
  });

  describe('with the key policy of the template: GenerateMac for the sweep role, VerifyMac for the restore role', () => {
    beforeEach(() => {
      env.emulator.services.kms.setKeyPolicy(tombstoneMacKey(env), {
        GenerateMac: [SWEEP_ROLE],
        VerifyMac: [RESTORE_ROLE],
      });
    });

    it('a sweep whose role may not GenerateMac writes no tombstone and deletes nothing', async () => {
      env.emulator.services.scheduler.seed([finished('order-7')]);

      const result = await sweepOnce(kmsAs(RESTORE_ROLE));

      expect(result).toMatchObject({ deleted: 0, failed: 1 });
      expect(present('order-7')).toBe(true);
      expect(await itemsOf()).toEqual([]);
      expect(env.emulator.plane.stats.get('DeleteSchedule')?.calls ?? 0).toBe(0);
    });

    it('a restore whose role may not VerifyMac recreates nothing; as the restore role it recreates', async () => {
      env.emulator.services.scheduler.seed([finished('order-8')]);
      expect(await sweepOnce(kmsAs(SWEEP_ROLE))).toMatchObject({ deleted: 1 });

      const denied = await restore(['--group', 'default', '--name', 'order-8', '--apply', '--keep'], {
        kms: kmsAs(SWEEP_ROLE),
      });
      expect(denied.summary).toMatchObject({ found: 1, unverified: 1, restored: 0 });
      expect(denied.out[0]).toMatch(/could not be verified \(AccessDeniedException/);
      expect(present('order-8')).toBe(false);

      const allowed = await restore(['--group', 'default', '--name', 'order-8', '--apply', '--keep'], {
        kms: kmsAs(RESTORE_ROLE),
      });
      expect(allowed).toMatchObject({ code: 0, summary: { found: 1, restored: 1, unverified: 0 } });
      expect(present('order-8')).toBe(true);
    });
  });

  it('costs one GenerateMac per store, however many BatchWriteItem calls it makes', async () => {
    // Prepare: 200 deletions' tombstones and outcomes, as a sweep writes them (concurrently)
    const store = tombstoneStore(env);
    const definitions = Array.from({ length: 200 }, (_, index) => ({
      Name: `bulk-${index}`,
      GroupName: 'default',
      ScheduleExpression: 'at(2025-06-01T09:00:00)',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders', RoleArn: SWEEP_ROLE },
    }));

    // Act
    await Promise.all(
      definitions.map(async (definition) => {
        const receipt = await store.write({ definition, runId: 'run-bulk', finishedAt: NOW, stuck: false });
        store.settle(receipt, 'deleted');
      }),
    );
    await store.flush();

    // Assess: the store's signing key certified once; every call signed with it
    const stats = (operation: string) => env.emulator.plane.stats.get(operation)?.calls ?? 0;
    expect(stats('GenerateMac')).toBe(1);
    expect(stats('BatchWriteItem')).toBeGreaterThan(10);
    const verify = tombstoneVerifier({
      mac: { kms: env.kms, keyId: tombstoneMacKey(env) },
      tombstoneTable: TOMBSTONE_TABLE,
    });
    const items = (await itemsOf()).filter((item) => item.kind?.S === 'tombstone');
    expect(items).toHaveLength(200);
    for (const item of items) {
      // At most 8 items share a signature, even in a call of 25 outcomes: the proof stays small.
      expect(item.signedBatch?.B?.length).toBeLessThanOrEqual(8 * 32);
      expect(item.outcome?.S).toBe('deleted');
      expect(await verify({ stored: item } as Tombstone)).toEqual({ verified: true });
    }
  });

  it('a store whose first GenerateMac was refused writes nothing then, and asks again for its next write', async () => {
    // Prepare: the key's policy lets no one GenerateMac
    env.emulator.services.kms.setKeyPolicy(tombstoneMacKey(env), { GenerateMac: [], VerifyMac: [] });
    const store = tombstoneStore(env);
    const definition = (name: string) => ({
      Name: name,
      GroupName: 'default',
      ScheduleExpression: 'at(2025-06-01T09:00:00)',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders', RoleArn: SWEEP_ROLE },
    });
    const entry = (name: string) => ({
      definition: definition(name),
      runId: 'run-cert',
      finishedAt: NOW,
      stuck: false,
    });

    // Act
    const refused = await store.write(entry('cert-1')).then(
      () => 'written',
      (error: Error) => error.name,
    );
    env.emulator.services.kms.setKeyPolicy(tombstoneMacKey(env), undefined);
    const receipt = await store.write(entry('cert-2'));
    await store.flush();

    // Assess
    expect(refused).toBe('AccessDeniedException');
    expect(receipt.key).toContain('cert-2');
    const tombstones = (await itemsOf()).filter((item) => item.kind?.S === 'tombstone');
    expect(tombstones.map((item) => item.name?.S)).toEqual(['cert-2']);
    expect(env.emulator.plane.stats.get('GenerateMac')?.calls).toBe(2);
  });

  it("as deployed (the key by its alias): MACs in the function's account and Region; outside Lambda deletes nothing", async () => {
    // Prepare: the stack's alias for the key, as resources/tombstones.yml makes it
    const alias = 'alias/schedule-hygiene-test-tombstone-mac';
    env.emulator.services.kms.createAlias(alias, tombstoneMacKey(env));
    env.emulator.services.scheduler.seed([finished('order-9')]);
    const handler = tombstoneSweepHandler(env, {
      stateTable: STATE_TABLE,
      namespace: 'OriginTest',
      log: createMemoryLogger(),
      settings: { SWEEP_TOMBSTONE_MAC_KEY: alias },
    }) as (event: unknown, context?: unknown) => Promise<unknown>;

    // Act: first outside Lambda (no function ARN), then with Lambda's context
    const outside = await outcomeOf(handler({}));
    const inside = await handler(
      {},
      { invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:sweep` },
    );
    const restored = await restore(['--group', 'default', '--name', 'order-9', '--keep']);

    // Assess
    expect(outside).toMatch(/^InputError: Invalid SWEEP_TOMBSTONE_MAC_KEY: expected the key's ARN/);
    expect(inside).toMatchObject({ deleted: 1 });
    expect(restored.summary).toMatchObject({ found: 1, wouldRestore: 1, unverified: 0 });
  });
});

describe('tombstone proof of origin: what a stored proof vouches for', () => {
  const tableArn = () => tableArnFor(tombstoneMacKey(env), TOMBSTONE_TABLE);
  const bulkDefinition = (name: string, input = '{}') => ({
    Name: name,
    GroupName: 'default',
    ScheduleExpression: 'at(2025-06-01T09:00:00)',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    Target: {
      Arn: 'arn:aws:lambda:us-east-1:123456789012:function:orders',
      RoleArn: SWEEP_ROLE,
      Input: input,
    },
  });
  /** A tombstone item as its first write stored it: pending, without its outcome time or proof. */
  const pendingStateOf = (item: Record<string, AttributeValue>) => {
    const { outcomeAt: _outcomeAt, ...rest } = withoutOrigin(item);
    return { ...rest, outcome: { S: 'pending' } };
  };

  it("no settled tombstone's stored proof holds another tombstone's pending state, however calls mix them", async () => {
    // Prepare: writes and outcomes interleaved, so BatchWriteItem calls carry first writes and
    // outcomes together (the store fills a tombstone call's room with outcomes)
    const store = tombstoneStore(env);
    const names = Array.from({ length: 60 }, (_, index) => `mix-${index}`);
    await Promise.all(
      names.map(async (name, index) => {
        await new Promise((resolve) => setTimeout(resolve, index * 4));
        const receipt = await store.write({
          definition: bulkDefinition(name),
          runId: 'run-mix',
          finishedAt: NOW,
          stuck: false,
        });
        store.settle(receipt, index % 5 === 0 ? 'gone' : 'deleted');
      }),
    );
    await store.flush();

    // Assess: every settled item's signed batch against every tombstone's pending state
    const items = (await itemsOf()).filter((item) => item.kind?.S === 'tombstone');
    expect(items).toHaveLength(60);
    const pendingDigests = items.map((item) => itemDigest(tableArn(), pendingStateOf(item)));
    for (const item of items) {
      const batch = Buffer.from(item.signedBatch?.B ?? new Uint8Array());
      expect(batch.length).toBeGreaterThan(0);
      for (const digest of pendingDigests) expect(batch.includes(digest)).toBe(false);
    }
    expect(env.emulator.plane.stats.get('BatchWriteItem')?.calls ?? 0).toBeLessThan(60);
  });

  it("refuses a gone tombstone put back as pending with another tombstone's proof: restore leaves it alone", async () => {
    // Prepare: a delete settled, then another's tombstone written while that outcome waits, so one
    // call carries both; the application had deleted the second schedule itself
    const store = tombstoneStore(env);
    const entry = (name: string) => ({
      definition: bulkDefinition(name),
      runId: 'run-roll',
      finishedAt: NOW,
      stuck: false,
    });
    store.settle(await store.write(entry('beside')), 'deleted');
    store.settle(await store.write(entry('rolled')), 'gone');
    await store.flush();
    // Three calls: beside's tombstone; rolled's tombstone with beside's outcome; rolled's outcome.
    expect(env.emulator.plane.stats.get('BatchWriteItem')?.calls).toBe(3);
    const items = (await itemsOf()).filter((item) => item.kind?.S === 'tombstone');
    const rolled = items.find((item) => item.name?.S === 'rolled') as Record<string, AttributeValue>;
    const beside = items.find((item) => item.name?.S === 'beside') as Record<string, AttributeValue>;
    const proof = Object.fromEntries(
      ['signature', 'signedBatch', 'signingKey', 'signingKeyMac'].map((name) => [
        name,
        beside[name] as AttributeValue,
      ]),
    );
    await put({ ...pendingStateOf(rolled), ...proof });

    // Act: the restore that would recreate an unsettled tombstone
    const result = await restore([
      '--group',
      'default',
      '--name',
      'rolled',
      '--include-unknown',
      '--apply',
      '--keep',
    ]);

    // Assess
    expect(result.summary).toMatchObject({ found: 1, unverified: 1, restored: 0 });
    expect(result.out[0]).toMatch(/^unverified\s+default\/rolled .*altered since it was written/);
    expect(creates()).toBe(0);
  });

  it("a signing key's MAC vouches for one run and one hour of deletions: not for another run or hour", async () => {
    // Prepare: one signer (one key pair), certified for two runs and two hours as a store would be
    const signer = createTombstoneSigner({ kms: env.kms, keyId: tombstoneMacKey(env) }, tableArn());
    const item = (runId: string, deletedAt: string): Record<string, AttributeValue> => ({
      pk: { S: 'g#default#0' },
      sk: { S: `scoped#${deletedAt}` },
      kind: { S: 'tombstone' },
      group: { S: 'default' },
      name: { S: 'scoped' },
      runId: { S: runId },
      deletedAt: { S: deletedAt },
      definition: { S: '{}' },
      sha256: { S: createHash('sha256').update('{}').digest('hex') },
      outcome: { S: 'pending' },
    });
    const first = item('run-a', '2025-06-15T12:10:00.000Z');
    const otherRun = item('run-b', '2025-06-15T12:20:00.000Z');
    const otherHour = item('run-a', '2025-06-15T13:05:00.000Z');
    await signer.sign([first]);
    await signer.sign([otherRun]);
    await signer.sign([otherHour]);
    const verify = createOriginVerifier({ kms: env.kms, keyId: tombstoneMacKey(env) }, tableArn());

    // Act: each signed right by the same key, but carrying the first item's key MAC
    const verdicts = await Promise.all([
      verify(first),
      verify(otherRun),
      verify(otherHour),
      verify({ ...otherRun, signingKeyMac: first.signingKeyMac as AttributeValue }),
      verify({ ...otherHour, signingKeyMac: first.signingKeyMac as AttributeValue }),
    ]);

    // Assess
    expect(verdicts.slice(0, 3)).toEqual([{ verified: true }, { verified: true }, { verified: true }]);
    for (const verdict of verdicts.slice(3)) {
      expect(verdict).toMatchObject({
        verified: false,
        reason: expect.stringMatching(/signing key's MAC does not verify for its run, hour/),
      });
    }
    expect(env.emulator.plane.stats.get('GenerateMac')?.calls).toBe(3);

    // A deletedAt in another form Date.parse reads is neither signed nor verified: it would sort and
    // compare differently in the table's keys and time ranges.
    const odd = item('run-a', 'June 15, 2025 12:30 UTC');
    await expect(signer.sign([odd])).rejects.toThrow(/deletedAt as toISOString writes it/);
    expect(await verify({ ...first, deletedAt: { S: '2025-06-15T12:10:00Z' } })).toMatchObject({
      verified: false,
      reason: 'its run or deletion time is malformed',
    });
  });

  it('a VerifyMac that failed is asked again for the next tombstone of its key; a definite refusal is not', async () => {
    // Prepare: two tombstones of one signing key; VerifyMac throttled for every attempt of the first ask
    const store = tombstoneStore(env);
    await Promise.all(
      ['first', 'second'].map((name) =>
        store.write({ definition: bulkDefinition(name), runId: 'run-retry', finishedAt: NOW, stuck: false }),
      ),
    );
    await store.flush();
    const items = (await itemsOf()).filter((item) => item.kind?.S === 'tombstone');
    env.emulator.plane.faults.configure({
      rules: [{ kind: 'throttle', service: 'kms', operation: 'VerifyMac', times: 3 }],
    });
    const verify = createOriginVerifier({ kms: env.kms, keyId: tombstoneMacKey(env) }, tableArn());

    // Act
    const first = await verify(items[0] as Record<string, AttributeValue>);
    const second = await verify(items[1] as Record<string, AttributeValue>);
    const forged = { ...(items[0] as Record<string, AttributeValue>), signingKeyMac: { B: randomBytes(32) } };
    const refusedOnce = await verify(forged);
    const callsAfterRefusal = env.emulator.plane.stats.get('VerifyMac')?.calls ?? 0;
    const refusedAgain = await verify(forged);

    // Assess
    expect(first).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/could not be verified \(ThrottlingException/),
    });
    expect(second).toEqual({ verified: true });
    expect(refusedOnce).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/signing key's MAC does not verify/),
    });
    expect(refusedAgain).toEqual(refusedOnce);
    expect(env.emulator.plane.stats.get('VerifyMac')?.calls).toBe(callsAfterRefusal);
  });

  it('a compressed definition that does not inflate fails its own line; the restore goes on', async () => {
    // Prepare: a definition over the compression threshold, its stored bytes then corrupted, and a
    // genuine small one beside it
    const store = tombstoneStore(env);
    const large = bulkDefinition('large', JSON.stringify({ blob: 'x'.repeat(70 * 1024) }));
    const receipts = await Promise.all([
      store.write({ definition: large, runId: 'run-gzip', finishedAt: NOW, stuck: false }),
      store.write({ definition: bulkDefinition('small'), runId: 'run-gzip', finishedAt: NOW, stuck: false }),
    ]);
    for (const receipt of receipts) store.settle(receipt, 'deleted');
    await store.flush();
    const stored = (await itemsOf()).find((item) => item.name?.S === 'large' && item.kind?.S === 'tombstone');
    expect(stored?.definitionGzip?.B).toBeDefined();
    await put({ ...(stored as Record<string, AttributeValue>), definitionGzip: { B: randomBytes(64) } });

    // Act
    const result = await restore(['--run', 'run-gzip', '--keep']);

    // Assess
    expect(result.summary).toMatchObject({ found: 2, wouldRestore: 1, failed: 1, unverified: 0 });
    expect(result.out.find((line) => line.includes('default/large'))).toMatch(
      /^failed\s+default\/large .*does not match its SHA-256/,
    );
    expect(result.out.find((line) => line.includes('default/small'))).toMatch(/^wouldRestore/);
  });
});

async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return String(error);
  }
}
