// The emulator's KMS through the real SDK client: HMAC keys, GenerateMac and VerifyMac with the
// errors AWS documents, aliases, and a per-principal denial as a key policy would make it.
import { createHmac } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GenerateMacCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { createKmsClient } from '../../src/aws/clients.ts';
import { ACCOUNT_ID, useTestEmulator } from '../support/emulator.ts';

const env = useTestEmulator();
const message = Buffer.from('schedule-hygiene tombstone batch v1\n');

async function hmacKey(): Promise<string> {
  const { KeyMetadata } = await env.kms.send(
    new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }),
  );
  return KeyMetadata?.Arn ?? '';
}

describe('emulated KMS', () => {
  it('creates an HMAC_256 key in the caller account and Region, described as AWS describes it', async () => {
    const keyArn = await hmacKey();

    const { KeyMetadata } = await env.kms.send(new DescribeKeyCommand({ KeyId: keyArn }));

    expect(keyArn).toMatch(new RegExp(`^arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/[0-9a-f-]{36}$`));
    expect(KeyMetadata).toMatchObject({
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
      KeyState: 'Enabled',
      MacAlgorithms: ['HMAC_SHA_256'],
    });
  });

  it('generates an RFC 2104 HMAC that VerifyMac accepts, by key ARN or alias', async () => {
    const keyArn = await hmacKey();
    await env.kms.send(
      new CreateAliasCommand({ AliasName: 'alias/tombstone-mac-test', TargetKeyId: keyArn }),
    );

    const generated = await env.kms.send(
      new GenerateMacCommand({
        KeyId: 'alias/tombstone-mac-test',
        Message: message,
        MacAlgorithm: 'HMAC_SHA_256',
      }),
    );
    const verified = await env.kms.send(
      new VerifyMacCommand({
        KeyId: keyArn,
        Message: message,
        Mac: generated.Mac,
        MacAlgorithm: 'HMAC_SHA_256',
      }),
    );

    expect(generated).toMatchObject({ KeyId: keyArn, MacAlgorithm: 'HMAC_SHA_256' });
    expect(generated.Mac).toHaveLength(32);
    expect(verified).toMatchObject({ KeyId: keyArn, MacValid: true, MacAlgorithm: 'HMAC_SHA_256' });
  });

  it('answers KMSInvalidMacException for a changed message, another key or a MAC made without the key', async () => {
    const keyArn = await hmacKey();
    const otherArn = await hmacKey();
    const { Mac } = await env.kms.send(
      new GenerateMacCommand({ KeyId: keyArn, Message: message, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    const forged = createHmac('sha256', 'guessed key').update(message).digest();

    for (const [KeyId, Message, mac] of [
      [keyArn, Buffer.from('another message'), Mac],
      [otherArn, message, Mac],
      [keyArn, message, forged],
    ] as const) {
      await expect(
        env.kms.send(new VerifyMacCommand({ KeyId, Message, Mac: mac, MacAlgorithm: 'HMAC_SHA_256' })),
      ).rejects.toMatchObject({ name: 'KMSInvalidMacException' });
    }
  });

  it('refuses a message over 4,096 bytes, an algorithm the key does not support, and an unknown key', async () => {
    const keyArn = await hmacKey();
    const mac = (KeyId: string, Message: Uint8Array, MacAlgorithm: 'HMAC_SHA_256' | 'HMAC_SHA_512') =>
      env.kms.send(new GenerateMacCommand({ KeyId, Message, MacAlgorithm }));

    await expect(mac(keyArn, Buffer.alloc(4097), 'HMAC_SHA_256')).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(mac(keyArn, message, 'HMAC_SHA_512')).rejects.toMatchObject({
      name: 'InvalidKeyUsageException',
    });
    await expect(mac(`${keyArn.slice(0, -4)}0000`, message, 'HMAC_SHA_256')).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });

  it("denies an operation to a principal the key's policy does not name for it", async () => {
    const keyArn = await hmacKey();
    const role = `arn:aws:iam::${ACCOUNT_ID}:role/sweep`;
    env.emulator.services.accounts.register('ASIASWEEPSESSION', ACCOUNT_ID, {
      arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/sweep/session`,
      userId: 'AROASWEEP:session',
    });
    const asSweep = createKmsClient({
      ...env.clientOptions,
      credentials: { accessKeyId: 'ASIASWEEPSESSION', secretAccessKey: 'x' },
    });
    env.emulator.services.kms.setKeyPolicy(keyArn, { GenerateMac: [role] });
    const input = { KeyId: keyArn, Message: message, MacAlgorithm: 'HMAC_SHA_256' } as const;

    const { Mac } = await asSweep.send(new GenerateMacCommand(input));

    await expect(env.kms.send(new GenerateMacCommand(input))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(
        `is not authorized to perform: kms:GenerateMac on resource: ${keyArn}`,
      ),
    });
    await expect(asSweep.send(new VerifyMacCommand({ ...input, Mac }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});
