// Least privilege, statement by statement, in the template `sls package` ships: who may write and read
// the tombstones, who may assume the RestoreRole, which roles it may pass, which state-table items each
// role may write, and who may use the tombstone MAC key for which KMS operation.
import { describe, expect, it } from 'vitest';
import { readSweepConfig } from '../../src/sweep/config.ts';
import { type CfnResource, loadTemplate, resourcesOfType } from '../support/template.ts';

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function resource(name: string): CfnResource {
  const found = loadTemplate().Resources[name];
  if (!found) throw new Error(`the template has no ${name}`);
  return found;
}

const actionsOf = (statement: Statement) => [statement.Action ?? []].flat();
const inlineStatements = (role: string): Statement[] =>
  (
    (resource(role).Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ??
    []
  ).flatMap((policy) => policy.PolicyDocument.Statement);
/** Every statement of a role: its inline policies and the AWS::IAM::RolePolicy resources attached to it. */
function roleStatements(role: string): Statement[] {
  const attached = resourcesOfType(loadTemplate(), 'AWS::IAM::RolePolicy')
    .filter(([, policy]) => JSON.stringify(policy.Properties?.RoleName) === JSON.stringify({ Ref: role }))
    .flatMap(
      ([, policy]) =>
        (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
    );
  return [...inlineStatements(role), ...attached];
}
const roles = () => resourcesOfType(loadTemplate(), 'AWS::IAM::Role').map(([name]) => name);
const bySid = (statements: Statement[], sid: string) => {
  const found = statements.find((statement) => statement.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
};

const TOMBSTONE_TABLE = {
  'Fn::Sub':
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
    'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/schedule-hygiene-dev-tombstones',
};
const STACK_SCHEDULER_ROLE = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
  'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/schedule-hygiene-dev-us-east-1-scheduler',
};
const STATE_TABLE = { 'Fn::GetAtt': ['SweepStateTable', 'Arn'] };
const MAC_KEY = { 'Fn::GetAtt': ['TombstoneMacKey', 'Arn'] };
const ACCOUNT_ROOT = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
  'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root',
};
const ITEM_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];
const tablePolicy = () =>
  (resource('TombstoneTable').Properties!.ResourcePolicy as { PolicyDocument: { Statement: Statement[] } })
    .PolicyDocument.Statement;
const keyPolicy = () =>
  (resource('TombstoneMacKey').Properties!.KeyPolicy as { Statement: Statement[] }).Statement;

describe('who may write tombstones', () => {
  it('the table policy denies every item write to every principal but the SweepRole', () => {
    expect(bySid(tablePolicy(), 'OnlyTheSweepRoleWrites')).toEqual({
      Sid: 'OnlyTheSweepRoleWrites',
      Effect: 'Deny',
      Principal: '*',
      Action: ITEM_WRITES,
      Resource: [TOMBSTONE_TABLE],
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['SweepRole', 'Arn'] } } },
    });
  });

  it('no role but the SweepRole is granted a tombstone write, and the SweepRole only BatchWriteItem', () => {
    const writers = roles().filter((role) =>
      roleStatements(role).some(
        (statement) =>
          statement.Effect === 'Allow' &&
          JSON.stringify(statement.Resource ?? '').includes('tombstones') &&
          actionsOf(statement).some((action) => ITEM_WRITES.includes(action) || action === 'dynamodb:*'),
      ),
    );

    expect(writers).toEqual(['SweepRole']);
    expect(bySid(roleStatements('SweepRole'), 'WriteTombstones')).toMatchObject({
      Action: ['dynamodb:BatchWriteItem'],
      Resource: [TOMBSTONE_TABLE],
    });
  });

  it('keeps point-in-time recovery on the tombstone table, the safeguard for what BatchWriteItem may delete', () => {
    expect(resource('TombstoneTable').Properties?.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
  });
});

describe('who may read tombstones', () => {
  it('the table policy denies every read and export to every principal but the RestoreRole', () => {
    const statement = bySid(tablePolicy(), 'OnlyTheRestoreRoleReads');

    expect(statement).toMatchObject({ Effect: 'Deny', Principal: '*', Resource: [TOMBSTONE_TABLE] });
    expect(actionsOf(statement)).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:ExportTableToPointInTime',
      ]),
    );
    expect(statement.Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['RestoreRole', 'Arn'] } },
    });
    expect(tablePolicy()).toHaveLength(2);
  });
});

describe('who may assume the RestoreRole', () => {
  it('only the principals restorePrincipals names (by aws:PrincipalArn), never the bare account; no one by default', () => {
    const trust = (resource('RestoreRole').Properties!.AssumeRolePolicyDocument as { Statement: unknown[] })
      .Statement;

    expect(trust).toEqual([
      {
        'Fn::If': [
          'HasRestorePrincipals',
          {
            Sid: 'NamedOperatorsAssume',
            Effect: 'Allow',
            Principal: { AWS: ACCOUNT_ROOT },
            Action: 'sts:AssumeRole',
            Condition: { ArnLike: { 'aws:PrincipalArn': { 'Fn::Split': [',', ''] } } },
          },
          {
            Sid: 'NoOneAssumes',
            Effect: 'Deny',
            Principal: { AWS: ACCOUNT_ROOT },
            Action: 'sts:AssumeRole',
          },
        ],
      },
    ]);
    // The packaged default: restorePrincipals is '', so the condition picks the Deny.
    expect(loadTemplate().Conditions?.HasRestorePrincipals).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['', ''] }],
    });
  });
});

describe('which roles the RestoreRole may pass', () => {
  it("only to Scheduler, and only restorePassRoles' roles, by default this stack's scheduler execution role", () => {
    const statement = bySid(roleStatements('RestoreRole'), 'PassExecutionRolesToScheduler');

    expect(statement).toEqual({
      Sid: 'PassExecutionRolesToScheduler',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: {
        'Fn::If': ['HasRestorePassRoles', { 'Fn::Split': [',', ''] }, [STACK_SCHEDULER_ROLE]],
      },
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    expect(resource('SchedulerExecutionRole').Properties?.RoleName).toBe(
      'schedule-hygiene-dev-us-east-1-scheduler',
    );
  });
});

describe('which state-table items each role may write', () => {
  const writeActions = [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ];
  const stateWrites = (role: string) =>
    roleStatements(role).filter(
      (statement) =>
        JSON.stringify(statement.Resource) === JSON.stringify([STATE_TABLE]) &&
        actionsOf(statement).some((action) => writeActions.includes(action)),
    );
  const leadingKeys = (statement: Statement) =>
    Object.values(statement.Condition ?? {}).map((condition) => condition['dynamodb:LeadingKeys']);

  it('the SweepRole: its lease (lease#sweep, with its checkpoint), its memory (schedule#...) and its ownership index (cfn#index...), nothing else', () => {
    expect(stateWrites('SweepRole')).toEqual([
      {
        Sid: 'WriteOwnSweepState',
        Effect: 'Allow',
        Action: writeActions,
        Resource: [STATE_TABLE],
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['lease#sweep', 'schedule#*', 'cfn#index*'] },
        },
      },
    ]);
    expect(bySid(roleStatements('SweepRole'), 'ReadSweepState')).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      Condition: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': ['lease#sweep', 'schedule#*', 'cfn#index*', 'protect#*'],
        },
      },
    });
  });

  it('the CensusRole: its lease only; the RestoreRole: the protect# items only (BatchWriteItem, as protectNames writes them)', () => {
    expect(stateWrites('CensusRole').flatMap(leadingKeys)).toEqual([['lease#census']]);
    expect(stateWrites('RestoreRole')).toEqual([
      {
        Sid: 'ProtectRestoredSchedules',
        Effect: 'Allow',
        Action: ['dynamodb:BatchWriteItem'],
        Resource: [STATE_TABLE],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['protect#*'] } },
      },
    ]);
  });

  it('no other role writes the state table, and every grant there is bound to its own keys', () => {
    const writers = roles().filter((role) => stateWrites(role).length > 0);

    expect(writers.sort()).toEqual(['CensusRole', 'RestoreRole', 'SweepRole']);
    for (const role of writers) {
      for (const statement of stateWrites(role))
        expect(leadingKeys(statement).flat().length).toBeGreaterThan(0);
    }
  });

  it('keeps the state table, which holds the protections, with the stack and in point-in-time recovery', () => {
    const table = resource('SweepStateTable');

    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });
});

describe('who may use the tombstone MAC key for which KMS operation', () => {
  it('is a retained HMAC_256 key for GENERATE_VERIFY_MAC', () => {
    const key = resource('TombstoneMacKey');

    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.UpdateReplacePolicy).toBe('Retain');
    expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  });

  it('its key policy lets the SweepRole GenerateMac and the RestoreRole VerifyMac, and denies both to anyone else', () => {
    // Administration, and the deny of grants (test/deploy/compliance.test.ts), aside.
    const use = keyPolicy().filter(
      (statement) =>
        statement.Sid !== 'AccountAdministersTheKey' && statement.Sid !== 'GrantsOnlyForAwsServices',
    );

    expect(use).toEqual([
      {
        Sid: 'OnlyTheSweepRoleGeneratesMacs',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': ['SweepRole', 'Arn'] } },
        Action: 'kms:GenerateMac',
        Resource: '*',
      },
      {
        Sid: 'OnlyTheRestoreRoleVerifiesMacs',
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': ['RestoreRole', 'Arn'] } },
        Action: 'kms:VerifyMac',
        Resource: '*',
      },
      {
        Sid: 'NoOtherPrincipalGeneratesMacs',
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:GenerateMac',
        Resource: '*',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['SweepRole', 'Arn'] } } },
      },
      {
        Sid: 'NoOtherPrincipalVerifiesMacs',
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:VerifyMac',
        Resource: '*',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['RestoreRole', 'Arn'] } } },
      },
    ]);
  });

  it("gives the account the key's administration, never its use", () => {
    const admin = bySid(keyPolicy(), 'AccountAdministersTheKey');
    const grantsUse = (action: string) =>
      ['kms:GenerateMac', 'kms:VerifyMac'].some((use) =>
        new RegExp(`^${action.replaceAll('*', '.*')}$`).test(use),
      );

    expect(admin.Principal).toEqual({ AWS: ACCOUNT_ROOT });
    expect(actionsOf(admin).filter(grantsUse)).toEqual([]);
  });

  it('the role policies agree: GenerateMac for the SweepRole, VerifyMac for the RestoreRole, KMS for no other role', () => {
    const kmsGrants = roles().flatMap((role) =>
      roleStatements(role)
        .filter((statement) => actionsOf(statement).some((action) => action.startsWith('kms:')))
        .map((statement) => ({ role, actions: actionsOf(statement), resource: statement.Resource })),
    );

    expect(kmsGrants).toEqual([
      { role: 'SweepRole', actions: ['kms:GenerateMac'], resource: MAC_KEY },
      { role: 'RestoreRole', actions: ['kms:VerifyMac'], resource: MAC_KEY },
    ]);
  });

  it("tells the sweep the key by its alias, which its config reads, and outputs the key's ARN for restore", () => {
    const variables = (
      resource('SweepLambdaFunction').Properties!.Environment as { Variables: Record<string, string> }
    ).Variables;

    expect(variables.SWEEP_TOMBSTONE_MAC_KEY).toBe('alias/schedule-hygiene-dev-tombstone-mac');
    expect(resource('TombstoneMacKeyAlias').Properties).toEqual({
      AliasName: 'alias/schedule-hygiene-dev-tombstone-mac',
      TargetKeyId: { Ref: 'TombstoneMacKey' },
    });
    expect(readSweepConfig(variables)).toMatchObject({
      tombstoneTable: 'schedule-hygiene-dev-tombstones',
      tombstoneMacKey: 'alias/schedule-hygiene-dev-tombstone-mac',
    });
    expect(loadTemplate().Outputs?.TombstoneMacKeyArn).toMatchObject({ Value: MAC_KEY });
  });
});
