// The tombstone store as `sls package` deploys it: encrypted, retained, expiring, written only by the
// sweep role and read only by the restore role.
import { describe, expect, it } from 'vitest';
import { type CfnResource, loadTemplate } from '../support/template.ts';

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function resource(name: string): CfnResource {
  const found = loadTemplate().Resources[name];
  if (!found) throw new Error(`the template has no ${name}`);
  return found;
}

function roleStatements(role: string): Statement[] {
  const policies = resource(role).Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
const TABLE_ARN = {
  'Fn::Sub':
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
    'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/schedule-hygiene-dev-tombstones',
};
const READS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PartiQLSelect',
  'dynamodb:ExportTableToPointInTime',
];

describe('tombstone store deployment', () => {
  it('is a DynamoDB table kept when the stack is removed or the table replaced, and protected from deletion', () => {
    const table = resource('TombstoneTable');

    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'schedule-hygiene-dev-tombstones',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('is encrypted with KMS: the AWS managed key unless a customer managed key is given', () => {
    const sse = resource('TombstoneTable').Properties?.SSESpecification;

    expect(sse).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: { 'Fn::If': ['HasTombstoneKey', '', { Ref: 'AWS::NoValue' }] },
    });
    expect(loadTemplate().Conditions?.HasTombstoneKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });

  it('tells the sweep its table and retention', () => {
    const variables = (
      resource('SweepLambdaFunction').Properties!.Environment as { Variables: Record<string, unknown> }
    ).Variables;

    expect(variables).toMatchObject({
      SWEEP_TOMBSTONE_TABLE: 'schedule-hygiene-dev-tombstones',
      SWEEP_TOMBSTONE_RETENTION_DAYS: '365',
    });
  });

  it('lets the sweep role write tombstones and never read them', () => {
    const onTable = roleStatements('SweepRole').filter(
      (statement) => JSON.stringify(statement.Resource) === JSON.stringify([TABLE_ARN]),
    );

    // Outcomes are puts of the whole tombstone in the same BatchWriteItem calls: no UpdateItem.
    expect(onTable.flatMap(actionsOf).sort()).toEqual(['dynamodb:BatchWriteItem']);
  });

  it('denies every read to anyone but the restore role, in the table resource policy', () => {
    const policy = (
      resource('TombstoneTable').Properties!.ResourcePolicy as {
        PolicyDocument: { Statement: Statement[] };
      }
    ).PolicyDocument;

    // (The write denial beside it: test/tombstone/roles.test.ts.)
    expect(policy.Statement.filter((statement) => statement.Sid !== 'OnlyTheSweepRoleWrites')).toEqual([
      {
        Sid: 'OnlyTheRestoreRoleReads',
        Effect: 'Deny',
        Principal: '*',
        Action: READS,
        Resource: [TABLE_ARN],
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': ['RestoreRole', 'Arn'] } } },
      },
    ]);
  });

  it('grants tombstone reads to the restore role only', () => {
    const readers = Object.entries(loadTemplate().Resources)
      .filter(([, candidate]) => candidate.Type === 'AWS::IAM::Role')
      .filter(([name]) =>
        roleStatements(name).some(
          (statement) =>
            statement.Effect === 'Allow' &&
            actionsOf(statement).some((action) => READS.includes(action) || action === 'dynamodb:*') &&
            JSON.stringify(statement.Resource).includes('tombstones'),
        ),
      )
      .map(([name]) => name);

    expect(readers).toEqual(['RestoreRole']);
  });

  it('gives the restore role what a restore needs, and no more', () => {
    const grants = roleStatements('RestoreRole').map((statement) => ({
      sid: statement.Sid,
      actions: actionsOf(statement).sort(),
      condition: statement.Condition,
    }));

    expect(grants).toEqual([
      {
        sid: 'ReadTombstones',
        actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
        condition: undefined,
      },
      {
        sid: 'RecreateSchedules',
        actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule'],
        condition: undefined,
      },
      {
        sid: 'PassExecutionRolesToScheduler',
        actions: ['iam:PassRole'],
        condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
      {
        sid: 'ProtectRestoredSchedules',
        actions: ['dynamodb:BatchWriteItem'],
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['protect#*'] } },
      },
    ]);
    expect(loadTemplate().Outputs).toHaveProperty('RestoreRoleArn');
    expect(loadTemplate().Outputs).toHaveProperty('TombstoneTableName');
  });
});
