// Which account and Region a request is for, as AWS decides it: the account from the caller's
// credentials (the access key id), the Region from the SigV4 signing scope in the Authorization header
// (`Credential=<access key id>/<date>/<region>/<service>/aws4_request`). The emulator keeps one set of
// Scheduler, Service Quotas and CloudWatch state per (account, Region), so one server stands in for
// many accounts and Regions at once.
//
// Access key ids are mapped to accounts by:
//   1. keys the emulator's STS issued (AssumeRole): the role's account;
//   2. keys registered in-process (`accounts.register(accessKeyId, accountId)`);
//   3. a key that is exactly 12 digits: that account (the convention LocalStack uses too);
//   4. anything else (e.g. `test`), and unsigned requests: the default account, 123456789012.
// Signatures are not verified: the emulator trusts the scope the client wrote.
import type { EmulatorRequest } from './core.ts';

export const DEFAULT_ACCOUNT_ID = '123456789012';
export const DEFAULT_REGION = 'us-east-1';

export interface Scope {
  accountId: string;
  region: string;
}

/** A 12-digit AWS account id (IAM User Guide, "AWS account identifiers"). */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;

/** `Credential=<access key id>/<yyyymmdd>/<region>/<service>/aws4_request` in a SigV4 Authorization header. */
const CREDENTIAL_SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;

export interface SigningScope {
  accessKeyId: string;
  region: string;
  service: string;
}

/** The SigV4 credential scope of a request, or undefined when it is not signed with SigV4. */
export function signingScopeOf(request: EmulatorRequest): SigningScope | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  const match = CREDENTIAL_SCOPE.exec(authorization);
  if (!match) return undefined;
  return { accessKeyId: match[1]!, region: match[2]!, service: match[3]! };
}

/** What the emulator knows of an access key id it issued or was told about. */
export interface Principal {
  accountId: string;
  /** The caller's ARN, as GetCallerIdentity answers it. */
  arn: string;
  /** GetCallerIdentity's UserId. */
  userId: string;
}

export class AccountDirectory {
  private readonly keys = new Map<string, Principal>();

  /** Maps an access key id to an account (its calls then act in that account). */
  register(accessKeyId: string, accountId: string, principal?: Omit<Principal, 'accountId'>): void {
    if (!ACCOUNT_ID_PATTERN.test(accountId)) {
      throw new Error(`Account id must be 12 digits, got '${accountId}'`);
    }
    this.keys.set(accessKeyId, {
      accountId,
      arn: principal?.arn ?? `arn:aws:iam::${accountId}:root`,
      userId: principal?.userId ?? accountId,
    });
  }

  /** The principal an access key id stands for (rules 1-4 above). */
  principalOf(accessKeyId: string | undefined): Principal {
    const known = accessKeyId === undefined ? undefined : this.keys.get(accessKeyId);
    if (known) return known;
    const accountId =
      accessKeyId !== undefined && ACCOUNT_ID_PATTERN.test(accessKeyId) ? accessKeyId : DEFAULT_ACCOUNT_ID;
    return { accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId };
  }

  /** The (account, Region) a request acts in; unsigned requests act in the default scope. */
  scopeOf(request: EmulatorRequest): Scope {
    const signing = signingScopeOf(request);
    if (!signing) return { accountId: DEFAULT_ACCOUNT_ID, region: DEFAULT_REGION };
    return { accountId: this.principalOf(signing.accessKeyId).accountId, region: signing.region };
  }

  clear(): void {
    this.keys.clear();
  }
}

export const scopeKey = (scope: Scope) => `${scope.accountId}/${scope.region}`;
