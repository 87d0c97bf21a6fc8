// The emulator's CloudFormation StackSets answer the real SDK (Query protocol) with CloudFormation's
// own errors, so the deploy command's error paths meet what AWS would send.
import {
  CloudFormationClient,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DescribeStackSetCommand,
  DescribeStackSetOperationCommand,
  UpdateStackSetCommand,
} from '@aws-sdk/client-cloudformation';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestEmulator } from '../support/emulator.ts';

const OU = 'ou-ab12-aaaaaaaa';
const TEMPLATE = JSON.stringify({
  Parameters: { grace: { Type: 'String', Default: '60' }, topic: { Type: 'String' } },
  Resources: { Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'named' } } },
});

const harness = useTestEmulator();
const client = () => new CloudFormationClient({ ...harness.clientOptions, maxAttempts: 1 });

async function createStackSet(name = 'hygiene') {
  await client().send(
    new CreateStackSetCommand({
      StackSetName: name,
      TemplateBody: TEMPLATE,
      Parameters: [{ ParameterKey: 'topic', ParameterValue: 'alarms' }],
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
    }),
  );
}

beforeEach(() => {
  harness.emulator.services.cloudformation.reset();
  harness.emulator.services.cloudformation.setOrganization({ [OU]: ['111111111111'] });
});

describe('emulated CloudFormation StackSets', () => {
  it('answers StackSetNotFoundException for a StackSet that does not exist', async () => {
    await expect(client().send(new DescribeStackSetCommand({ StackSetName: 'nope' }))).rejects.toMatchObject({
      name: 'StackSetNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('refuses a second StackSet of the same name', async () => {
    await createStackSet();

    await expect(createStackSet()).rejects.toMatchObject({ name: 'NameAlreadyExistsException' });
  });

  it('refuses named IAM resources without CAPABILITY_NAMED_IAM, and unknown or missing parameters', async () => {
    const base = { StackSetName: 'x', TemplateBody: TEMPLATE, PermissionModel: 'SERVICE_MANAGED' as const };

    await expect(
      client().send(
        new CreateStackSetCommand({ ...base, Parameters: [{ ParameterKey: 'topic', ParameterValue: 't' }] }),
      ),
    ).rejects.toMatchObject({ name: 'InsufficientCapabilitiesException' });
    await expect(
      client().send(
        new CreateStackSetCommand({
          ...base,
          Capabilities: ['CAPABILITY_NAMED_IAM'],
          Parameters: [{ ParameterKey: 'nope', ParameterValue: '1' }],
        }),
      ),
    ).rejects.toThrow(/\[nope\] do not exist/);
    await expect(
      client().send(new CreateStackSetCommand({ ...base, Capabilities: ['CAPABILITY_NAMED_IAM'] })),
    ).rejects.toThrow(/\[topic\] must have values/);
  });

  it('runs one operation at a time, and refuses an OU the organization does not have', async () => {
    await createStackSet();
    const { OperationId } = await client().send(
      new CreateStackInstancesCommand({
        StackSetName: 'hygiene',
        DeploymentTargets: { OrganizationalUnitIds: [OU] },
        Regions: ['us-east-1'],
      }),
    );

    await expect(
      client().send(new UpdateStackSetCommand({ StackSetName: 'hygiene', UsePreviousTemplate: true })),
    ).rejects.toMatchObject({ name: 'OperationInProgressException', $metadata: { httpStatusCode: 409 } });
    await expect(
      client().send(
        new CreateStackInstancesCommand({
          StackSetName: 'hygiene',
          DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-zzzzzzzz'] },
          Regions: ['us-east-1'],
        }),
      ),
    ).rejects.toThrow(/not in the organization/);

    // The operation ends after a few polls, and then another may start.
    const statuses: string[] = [];
    for (let poll = 0; poll < 4; poll += 1) {
      const { StackSetOperation } = await client().send(
        new DescribeStackSetOperationCommand({ StackSetName: 'hygiene', OperationId }),
      );
      statuses.push(String(StackSetOperation?.Status));
    }
    expect(statuses).toEqual(['RUNNING', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    await expect(
      client().send(
        new UpdateStackSetCommand({
          StackSetName: 'hygiene',
          UsePreviousTemplate: true,
          Capabilities: ['CAPABILITY_NAMED_IAM'],
          Parameters: [{ ParameterKey: 'topic', UsePreviousValue: true }],
        }),
      ),
    ).resolves.toMatchObject({ OperationId: expect.any(String) });
  });
});
