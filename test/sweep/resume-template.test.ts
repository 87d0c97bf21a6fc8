// The deployment that resumable, incremental sweeps need, as `sls package` generates it: a state table
// that cleans up after itself, grants scoped to that table and to the function itself, and async
// invocations that are never retried (a replayed continuation would count its part twice).
import { describe, expect, it } from 'vitest';
import { type CfnResource, loadTemplate, resourcesOfType } from '../support/template.ts';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

function resource(name: string): CfnResource {
  const found = loadTemplate().Resources[name];
  if (!found) throw new Error(`the template has no ${name}`);
  return found;
}

function statementsGranting(prefix: string): Statement[] {
  const policies = resource('SweepRole').Properties?.Policies as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies
    .flatMap((policy) => policy.PolicyDocument.Statement)
    .filter((statement) => [statement.Action].flat().some((action) => action.startsWith(prefix)));
}

describe('resumable sweep deployment', () => {
  it('keeps sweep state in an on-demand table whose entries expire on the ttl attribute', () => {
    const table = resource('SweepStateTable');

    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('tells the sweep function its state table and safety margin', () => {
    const environment = resource('SweepLambdaFunction').Properties?.Environment as {
      Variables: Record<string, unknown>;
    };

    expect(environment.Variables.SWEEP_STATE_TABLE).toBe('schedule-hygiene-dev-state');
    expect(resource('SweepStateTable').Properties?.TableName).toBe('schedule-hygiene-dev-state');
    expect(Number(environment.Variables.SWEEP_SAFETY_MARGIN_SECONDS)).toBeGreaterThanOrEqual(30);
    expect(environment.Variables.SWEEP_INCREMENTAL).toBe('true');
  });

  it('grants item reads and writes on the state table only', () => {
    const statements = statementsGranting('dynamodb:').filter(
      (statement) => statement.Sid !== 'WriteTombstones',
    );

    // Reads and writes apart, each bound to the sweep's own keys (test/tombstone/roles.test.ts).
    expect(statements.map((statement) => statement.Sid)).toEqual(['ReadSweepState', 'WriteOwnSweepState']);
    expect(statements.flatMap((statement) => [statement.Action].flat()).sort()).toEqual(
      ['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'].map(
        (name) => `dynamodb:${name}`,
      ),
    );
    for (const statement of statements) {
      expect(statement.Resource).toEqual([{ 'Fn::GetAtt': ['SweepStateTable', 'Arn'] }]);
    }
  });

  it('may invoke only its own function, named without a reference back to it', () => {
    const statements = statementsGranting('lambda:');

    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toEqual(['lambda:InvokeFunction']);
    expect(statements[0]?.Resource).toEqual([
      {
        'Fn::Sub':
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not a template literal
          'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:schedule-hygiene-dev-sweep',
      },
    ]);
    expect(resource('SweepLambdaFunction').Properties?.FunctionName).toBe('schedule-hygiene-dev-sweep');
  });

  it('never retries an asynchronous invocation of the sweep', () => {
    const configs = resourcesOfType(loadTemplate(), 'AWS::Lambda::EventInvokeConfig').filter(
      ([, config]) =>
        JSON.stringify(config.Properties?.FunctionName) === JSON.stringify({ Ref: 'SweepLambdaFunction' }),
    );

    expect(configs).toHaveLength(1);
    expect(configs[0]?.[1].Properties?.MaximumRetryAttempts).toBe(0);
  });
});
