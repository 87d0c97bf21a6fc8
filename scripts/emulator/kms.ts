// AWS KMS for the emulator (AWS JSON 1.1, target TrentService), as far as HMAC keys go: CreateKey of an
// HMAC key (KeySpec HMAC_224/256/384/512, KeyUsage GENERATE_VERIFY_MAC), DescribeKey, GenerateMac and
// VerifyMac and CreateAlias (a KeyId may be a key id, key ARN, alias name or alias ARN), with the errors AWS documents for them (KMS API Reference: GenerateMac, VerifyMac):
// NotFoundException for an unknown key, DisabledException for a disabled one, InvalidKeyUsageException
// for a MacAlgorithm the key does not support, KMSInvalidMacException when a MAC does not verify,
// ValidationException for a Message outside 1-4,096 bytes. Every MAC is the RFC 2104 HMAC of the
// message under the key's own random material, so a MAC made under one key never verifies under another.
//
// A key belongs to the account and Region of the request that created it (scopes.ts). Who may use it:
// by default every principal of its account (what the default key policy grants through the account's
// IAM); `setKeyPolicy(keyArn, { GenerateMac: [roleArn], ... })` narrows each operation to the principals
// it names (an assumed-role session counts as its role), so a test can deny one role an operation as a
// key policy would. Grants, other key specs and the policy language are not emulated.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  AwsError,
  badControl,
  type ControlPlane,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  parseJsonBody,
  renderJsonProtocolError,
  targetOperation,
  unknownControl,
} from './core.ts';
import { type AccountDirectory, signingScopeOf } from './scopes.ts';

const targetPrefix = 'TrentService.';
const OPERATIONS = new Set(['CreateKey', 'CreateAlias', 'DescribeKey', 'GenerateMac', 'VerifyMac']);

/** Alias names: alias/ then 1-250 of a-z A-Z 0-9 / _ - (KMS API Reference, CreateAlias), never alias/aws/. */
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

/** HMAC key specs and the one MAC algorithm each supports (KMS Developer Guide, "HMAC keys in AWS KMS"). */
const HMAC_SPECS: Record<string, { algorithm: string; hash: string }> = {
  HMAC_224: { algorithm: 'HMAC_SHA_224', hash: 'sha224' },
  HMAC_256: { algorithm: 'HMAC_SHA_256', hash: 'sha256' },
  HMAC_384: { algorithm: 'HMAC_SHA_384', hash: 'sha384' },
  HMAC_512: { algorithm: 'HMAC_SHA_512', hash: 'sha512' },
};
/** GenerateMac and VerifyMac take a Message of 1 to 4,096 bytes. */
const MAX_MESSAGE_BYTES = 4096;

/** The operations a key policy set with setKeyPolicy can grant. */
export type MacOperation = 'GenerateMac' | 'VerifyMac' | 'DescribeKey';

export interface KmsService extends EmulatedService {
  name: 'kms';
  /** Creates an HMAC_256 key in an account and Region without a request; returns its ARN. */
  createHmacKey(accountId: string, region: string, description?: string): string;
  /** Points an alias (alias/<name>) of the key's account and Region at the key; returns the alias ARN. */
  createAlias(aliasName: string, keyArn: string): string;
  /**
   * Narrows who may call each operation on the key to the principal ARNs listed (role ARNs match
   * their assumed-role sessions); an operation not listed is denied to everyone. undefined: back to
   * every principal of the key's account.
   */
  setKeyPolicy(keyArn: string, allowed: Partial<Record<MacOperation, readonly string[]>> | undefined): void;
  /** Disables or enables a key (DisabledException while disabled). */
  setKeyEnabled(keyArn: string, enabled: boolean): void;
  /** GenerateMac and VerifyMac answers so far, oldest first: operation, key ARN and outcome. */
  uses(): readonly { operation: string; keyArn: string; outcome: string }[];
  reset(): void;
}

interface Key {
  arn: string;
  keyId: string;
  accountId: string;
  region: string;
  spec: string;
  material: Buffer;
  description: string;
  createdAt: Date;
  enabled: boolean;
  policy: Partial<Record<MacOperation, readonly string[]>> | undefined;
}

export function createKmsService(plane: ControlPlane, accounts: AccountDirectory): KmsService {
  const keys = new Map<string, Key>();
  /** Alias ARN → key ARN. */
  const aliases = new Map<string, string>();
  let uses: { operation: string; keyArn: string; outcome: string }[] = [];

  function addKey(accountId: string, region: string, spec: string, description: string): Key {
    const keyId = randomUUID();
    const key: Key = {
      arn: `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
      keyId,
      accountId,
      region,
      spec,
      material: randomBytes(64),
      description,
      createdAt: plane.now(),
      enabled: true,
      policy: undefined,
    };
    keys.set(key.arn, key);
    return key;
  }

  /** The key a KeyId names: a key or alias ARN, or a key id or alias name in the caller's account and Region. */
  function resolve(keyId: unknown, request: EmulatorRequest): Key {
    if (typeof keyId !== 'string' || keyId.length < 1 || keyId.length > 2048) {
      throw new AwsError(
        'ValidationException',
        400,
        "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048",
      );
    }
    const scope = accounts.scopeOf(request);
    const named = keyId.startsWith('arn:')
      ? keyId
      : keyId.startsWith('alias/')
        ? `arn:aws:kms:${scope.region}:${scope.accountId}:${keyId}`
        : `arn:aws:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
    const arn = aliases.get(named) ?? named;
    const key = keys.get(arn);
    if (!key) throw new AwsError('NotFoundException', 400, `Key '${named}' does not exist`);
    return key;
  }

  /** AccessDeniedException unless the caller may call `operation` on the key. */
  function authorize(operation: MacOperation, key: Key, request: EmulatorRequest): void {
    const caller = accounts.principalOf(signingScopeOf(request)?.accessKeyId);
    const allowed =
      key.policy === undefined
        ? caller.accountId === key.accountId
        : (key.policy[operation] ?? []).includes(roleOf(caller.arn));
    if (!allowed) {
      throw new AwsError(
        'AccessDeniedException',
        400,
        `User: ${caller.arn} is not authorized to perform: kms:${operation} on resource: ${key.arn} because no resource-based policy allows the kms:${operation} action`,
      );
    }
  }

  function macInputs(body: Record<string, unknown>, key: Key): { message: Buffer; algorithm: string } {
    const message = blob(body.Message, 'message');
    if (message.length < 1 || message.length > MAX_MESSAGE_BYTES) {
      throw new AwsError(
        'ValidationException',
        400,
        "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
      );
    }
    const algorithm = body.MacAlgorithm;
    const spec = HMAC_SPECS[key.spec];
    if (typeof algorithm !== 'string' || !spec || algorithm !== spec.algorithm) {
      throw new AwsError(
        'InvalidKeyUsageException',
        400,
        `${String(algorithm)} is not supported by key '${key.arn}'`,
      );
    }
    if (!key.enabled) throw new AwsError('DisabledException', 400, `${key.arn} is disabled.`);
    return { message, algorithm };
  }

  const hmac = (key: Key, message: Buffer) =>
    createHmac(HMAC_SPECS[key.spec]?.hash ?? 'sha256', key.material)
      .update(message)
      .digest();

  const metadata = (key: Key) => ({
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.createdAt.getTime() / 1000,
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: 'GENERATE_VERIFY_MAC',
    KeyState: key.enabled ? 'Enabled' : 'Disabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    KeySpec: key.spec,
    CustomerMasterKeySpec: key.spec,
    MacAlgorithms: [HMAC_SPECS[key.spec]?.algorithm],
    MultiRegion: false,
  });

  const handlers: Record<string, (body: Record<string, unknown>, request: EmulatorRequest) => unknown> = {
    CreateKey(body, request) {
      const spec = body.KeySpec ?? body.CustomerMasterKeySpec;
      if (typeof spec !== 'string' || !HMAC_SPECS[spec] || body.KeyUsage !== 'GENERATE_VERIFY_MAC') {
        throw new AwsError(
          'UnsupportedOperationException',
          400,
          'The emulator creates HMAC keys only: KeySpec HMAC_224, HMAC_256, HMAC_384 or HMAC_512 with KeyUsage GENERATE_VERIFY_MAC',
        );
      }
      const scope = accounts.scopeOf(request);
      const description = typeof body.Description === 'string' ? body.Description : '';
      return { KeyMetadata: metadata(addKey(scope.accountId, scope.region, spec, description)) };
    },
    CreateAlias(body, request) {
      const name = body.AliasName;
      if (typeof name !== 'string' || !ALIAS_NAME.test(name) || name.startsWith('alias/aws/')) {
        throw new AwsError(
          'ValidationException',
          400,
          `Alias must start with the prefix "alias/" and may not be alias/aws/: ${String(name)}`,
        );
      }
      const key = resolve(body.TargetKeyId, request);
      const scope = accounts.scopeOf(request);
      const aliasArn = `arn:aws:kms:${scope.region}:${scope.accountId}:${name}`;
      if (aliases.has(aliasArn))
        throw new AwsError(
          'AlreadyExistsException',
          400,
          `An alias with the name ${aliasArn} already exists`,
        );
      aliases.set(aliasArn, key.arn);
      return {};
    },
    DescribeKey(body, request) {
      const key = resolve(body.KeyId, request);
      authorize('DescribeKey', key, request);
      return { KeyMetadata: metadata(key) };
    },
    GenerateMac(body, request) {
      const key = resolve(body.KeyId, request);
      authorize('GenerateMac', key, request);
      const { message, algorithm } = macInputs(body, key);
      uses.push({ operation: 'GenerateMac', keyArn: key.arn, outcome: 'generated' });
      return { Mac: hmac(key, message).toString('base64'), MacAlgorithm: algorithm, KeyId: key.arn };
    },
    VerifyMac(body, request) {
      const key = resolve(body.KeyId, request);
      authorize('VerifyMac', key, request);
      const { message, algorithm } = macInputs(body, key);
      const given = blob(body.Mac, 'mac');
      const expected = hmac(key, message);
      const valid = given.length === expected.length && timingSafeEqual(given, expected);
      uses.push({ operation: 'VerifyMac', keyArn: key.arn, outcome: valid ? 'valid' : 'invalid' });
      if (!valid) throw new AwsError('KMSInvalidMacException', 400, '');
      return { KeyId: key.arn, MacValid: true, MacAlgorithm: algorithm };
    },
  };

  const service: KmsService = {
    name: 'kms',
    identify(request) {
      const operation = targetOperation(request, targetPrefix);
      return operation !== undefined && OPERATIONS.has(operation) ? operation : undefined;
    },
    handle(operation, request): EmulatorResponse {
      const body = parseJsonBody(request);
      const run = handlers[operation];
      if (!run) throw new AwsError('UnsupportedOperationException', 400, `${operation} is not emulated`);
      return { status: 200, body: run(body, request) };
    },
    renderError: (error) => renderJsonProtocolError(error),
    control(action, body) {
      if (action === 'key') {
        const accountId = typeof body.accountId === 'string' ? body.accountId : '123456789012';
        const region = typeof body.region === 'string' ? body.region : 'us-east-1';
        return { keyArn: service.createHmacKey(accountId, region) };
      }
      if (action === 'reset') {
        service.reset();
        return { reset: true };
      }
      throw unknownControl(`Unknown kms control '${action}'; expected key or reset`);
    },
    createHmacKey(accountId, region, description = '') {
      return addKey(accountId, region, 'HMAC_256', description).arn;
    },
    createAlias(aliasName, keyArn) {
      const key = keys.get(keyArn);
      if (!key || !ALIAS_NAME.test(aliasName))
        throw badControl(`No key ${keyArn}, or not an alias name: ${aliasName}`);
      const aliasArn = `arn:aws:kms:${key.region}:${key.accountId}:${aliasName}`;
      aliases.set(aliasArn, keyArn);
      return aliasArn;
    },
    setKeyPolicy(keyArn, allowed) {
      const key = keys.get(keyArn);
      if (!key) throw badControl(`No key ${keyArn}`);
      key.policy = allowed;
    },
    setKeyEnabled(keyArn, enabled) {
      const key = keys.get(keyArn);
      if (!key) throw badControl(`No key ${keyArn}`);
      key.enabled = enabled;
    },
    uses: () => uses,
    reset() {
      keys.clear();
      aliases.clear();
      uses = [];
    },
  };
  return service;
}

/** A blob member of a JSON request: base64 text. */
function blob(value: unknown, member: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new AwsError('SerializationException', 400, `'${member}' must be a base64-encoded blob`);
  }
  return Buffer.from(value, 'base64');
}

/** The role an assumed-role session belongs to (arn:aws:sts::<a>:assumed-role/<name>/<session> → role ARN). */
function roleOf(principalArn: string): string {
  const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(principalArn);
  return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : principalArn;
}
