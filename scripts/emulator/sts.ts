// AWS STS for the emulator: AssumeRole and GetCallerIdentity over the AWS Query protocol (a form-encoded
// POST with Action and Version=2011-06-15, answered in XML), as @aws-sdk/client-sts speaks it. Assuming
// `arn:aws:iam::<account>:role/<name>` hands out credentials whose access key id the emulator maps to
// that account (scopes.ts), so the SDK clients built with them act in that account.
//
// Roles exist only once created (`createRole`); AssumeRole of any other role, or by a caller the role's
// trust does not name, answers 403 AccessDenied with AWS's message, as AWS answers both (it does not
// say whether the role exists). Signatures, session policies and credential expiry are not checked.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AwsError,
  badControl,
  type ControlPlane,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  unknownControl,
} from './core.ts';
import { ACCOUNT_ID_PATTERN, type AccountDirectory, signingScopeOf } from './scopes.ts';

const VERSION = '2011-06-15';
const NAMESPACE = `https://sts.amazonaws.com/doc/${VERSION}/`;
const OPERATIONS = new Set(['AssumeRole', 'GetCallerIdentity']);

/** AssumeRole's limits (STS API reference, AssumeRole: RoleArn 20-2048, RoleSessionName [\w+=,.@-]{2,64}). */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/((?:[\u0021-\u007E]*\/)?([\w+=,.@-]{1,64}))$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** DurationSeconds: 900 s to the role's maximum session duration (3,600 s unless raised). */
const MIN_DURATION_SECONDS = 900;
const DEFAULT_DURATION_SECONDS = 3600;
export const DEFAULT_MAX_SESSION_SECONDS = 3600;

export interface RoleOptions {
  /** Accounts whose principals the role's trust policy allows; unset: any caller. */
  trustedAccounts?: readonly string[];
  maxSessionSeconds?: number;
}

export interface StsService extends EmulatedService {
  name: 'sts';
  /** Creates (or replaces) a role that AssumeRole may assume; returns its ARN. */
  createRole(accountId: string, roleName: string, options?: RoleOptions): string;
  deleteRole(accountId: string, roleName: string): void;
  /** Successful AssumeRole calls, oldest first: role ARN and session name (never the credentials). */
  assumed(): readonly { roleArn: string; sessionName: string; callerAccountId: string }[];
  reset(): void;
}

interface Role {
  arn: string;
  accountId: string;
  name: string;
  roleId: string;
  trustedAccounts: readonly string[] | undefined;
  maxSessionSeconds: number;
}

export function createStsService(plane: ControlPlane, accounts: AccountDirectory): StsService {
  const roles = new Map<string, Role>();
  let assumed: { roleArn: string; sessionName: string; callerAccountId: string }[] = [];

  function createRole(accountId: string, roleName: string, options: RoleOptions = {}): string {
    if (!ACCOUNT_ID_PATTERN.test(accountId))
      throw badControl(`Account id must be 12 digits, got '${accountId}'`);
    const arn = `arn:aws:iam::${accountId}:role/${roleName}`;
    if (!ROLE_ARN.test(arn)) throw badControl(`Not a role name IAM accepts: '${roleName}'`);
    roles.set(arn, {
      arn,
      accountId,
      name: roleName,
      roleId: `AROA${randomBytes(8).toString('hex').toUpperCase().slice(0, 17)}`,
      trustedAccounts: options.trustedAccounts,
      maxSessionSeconds: options.maxSessionSeconds ?? DEFAULT_MAX_SESSION_SECONDS,
    });
    return arn;
  }

  function assumeRole(params: URLSearchParams, request: EmulatorRequest): string {
    const roleArn = required(params, 'RoleArn');
    const sessionName = required(params, 'RoleSessionName');
    if (roleArn.length < 20 || roleArn.length > 2048) {
      throw validationError(
        `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: length 20 to 2048`,
      );
    }
    if (!SESSION_NAME.test(sessionName)) {
      throw validationError(
        `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const durationText = params.get('DurationSeconds');
    const duration = durationText === null ? DEFAULT_DURATION_SECONDS : Number(durationText);
    if (!Number.isInteger(duration) || duration < MIN_DURATION_SECONDS || duration > 43_200) {
      throw validationError(
        `Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
      );
    }
    const caller = accounts.principalOf(signingScopeOf(request)?.accessKeyId);
    const role = roles.get(roleArn);
    if (!role || (role.trustedAccounts !== undefined && !role.trustedAccounts.includes(caller.accountId))) {
      throw new AwsError(
        'AccessDenied',
        403,
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    if (duration > role.maxSessionSeconds) {
      throw validationError(
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
      );
    }
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
    const assumedArn = `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`;
    const userId = `${role.roleId}:${sessionName}`;
    accounts.register(accessKeyId, role.accountId, { arn: assumedArn, userId });
    assumed.push({ roleArn, sessionName, callerAccountId: caller.accountId });
    const expiration = new Date(plane.now().getTime() + duration * 1000);
    return xmlResponse(
      'AssumeRole',
      [
        '<AssumedRoleUser>',
        `<Arn>${escapeXml(assumedArn)}</Arn>`,
        `<AssumedRoleId>${escapeXml(userId)}</AssumedRoleId>`,
        '</AssumedRoleUser>',
        '<Credentials>',
        `<AccessKeyId>${accessKeyId}</AccessKeyId>`,
        `<SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>`,
        `<SessionToken>${randomBytes(48).toString('base64')}</SessionToken>`,
        `<Expiration>${expiration.toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration>`,
        '</Credentials>',
        '<PackedPolicySize>0</PackedPolicySize>',
      ].join(''),
    );
  }

  function getCallerIdentity(request: EmulatorRequest): string {
    const caller = accounts.principalOf(signingScopeOf(request)?.accessKeyId);
    return xmlResponse(
      'GetCallerIdentity',
      `<Arn>${escapeXml(caller.arn)}</Arn><UserId>${escapeXml(caller.userId)}</UserId><Account>${caller.accountId}</Account>`,
    );
  }

  const service: StsService = {
    name: 'sts',
    identify(request) {
      if (request.method !== 'POST' || request.path !== '/') return undefined;
      const contentType = String(request.headers['content-type'] ?? '');
      if (!contentType.startsWith('application/x-www-form-urlencoded')) return undefined;
      const params = formOf(request);
      if (params.get('Version') !== VERSION) return undefined;
      const action = params.get('Action') ?? '';
      // An STS action the emulator lacks is still STS's to answer (with an error naming it).
      return OPERATIONS.has(action) ? action : `Unsupported:${action}`;
    },
    handle(operation, request): EmulatorResponse {
      let body: string;
      if (operation === 'AssumeRole') body = assumeRole(formOf(request), request);
      else if (operation === 'GetCallerIdentity') body = getCallerIdentity(request);
      else {
        throw new AwsError(
          'InvalidAction',
          400,
          `The emulator does not implement the STS action ${operation.slice('Unsupported:'.length)}`,
        );
      }
      return { status: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(body) };
    },
    renderError(error) {
      // The Query protocol's error codes: STS says Throttling (400) and InternalFailure.
      const renamed =
        error.type === 'ThrottlingException'
          ? { type: 'Throttling', status: 400 }
          : error.type === 'InternalServerException'
            ? { type: 'InternalFailure', status: 500 }
            : error.type === 'ValidationException'
              ? { type: 'ValidationError', status: 400 }
              : { type: error.type, status: error.status };
      const fault = renamed.status >= 500 ? 'Receiver' : 'Sender';
      return {
        status: renamed.status,
        headers: { 'content-type': 'text/xml' },
        body: Buffer.from(
          `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${fault}</Type><Code>${renamed.type}</Code>` +
            `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        ),
      };
    },
    control(action, body) {
      if (action === 'role') {
        const trusted = body.trustedAccounts;
        const arn = createRole(String(body.accountId), String(body.roleName), {
          ...(Array.isArray(trusted) ? { trustedAccounts: trusted.map(String) } : {}),
          ...(typeof body.maxSessionSeconds === 'number'
            ? { maxSessionSeconds: body.maxSessionSeconds }
            : {}),
        });
        return { arn };
      }
      if (action === 'reset') {
        service.reset();
        return { reset: true };
      }
      throw unknownControl(`Unknown sts control '${action}'; expected role or reset`);
    },
    createRole,
    deleteRole(accountId, roleName) {
      roles.delete(`arn:aws:iam::${accountId}:role/${roleName}`);
    },
    assumed: () => assumed,
    reset() {
      roles.clear();
      assumed = [];
    },
  };
  return service;
}

const parsedForms = new WeakMap<EmulatorRequest, URLSearchParams>();

function formOf(request: EmulatorRequest): URLSearchParams {
  let params = parsedForms.get(request);
  if (!params) {
    params = new URLSearchParams(request.body.toString('utf8'));
    parsedForms.set(request, params);
  }
  return params;
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    throw new AwsError('MissingParameter', 400, `The request must contain the parameter ${name}.`);
  }
  return value;
}

const validationError = (message: string) => new AwsError('ValidationError', 400, message);

function xmlResponse(action: string, result: string): string {
  return (
    `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
  );
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}
