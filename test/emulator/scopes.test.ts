// The emulator as many accounts and Regions at once: state per (account, Region) chosen by the
// request's access key and signing Region, and STS AssumeRole handing out keys of the role's account.
// Everything through the real SDK clients over HTTP.
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { ListServiceQuotasCommand } from '@aws-sdk/client-service-quotas';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { createSchedulerClient, createServiceQuotasClient } from '../../src/aws/clients.ts';
import { useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();

const signedAs = (accessKeyId: string, region: string, sessionToken?: string) => ({
  endpoint: harness.emulator.url,
  region,
  credentials: { accessKeyId, secretAccessKey: 'secret', ...(sessionToken ? { sessionToken } : {}) },
});

async function listAll(accessKeyId: string, region: string, sessionToken?: string) {
  const client = createSchedulerClient(signedAs(accessKeyId, region, sessionToken));
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListSchedulesCommand({ NextToken: nextToken }));
    arns.push(...(page.Schedules ?? []).map((schedule) => schedule.Arn ?? ''));
    nextToken = page.NextToken;
  } while (nextToken);
  return arns;
}

describe('accounts and Regions', () => {
  it('keeps the default scope where unmapped keys signing for us-east-1 reach it, as with one account', async () => {
    harness.emulator.services.scheduler.synthesize({ count: 7, seed: 1, namePrefix: 'home-' });
    const arns = await listAll('test', 'us-east-1');
    expect(arns).toHaveLength(7);
    expect(arns.every((arn) => arn.startsWith('arn:aws:scheduler:us-east-1:123456789012:schedule/'))).toBe(
      true,
    );
    expect(harness.emulator.services.scope('123456789012', 'us-east-1').scheduler).toBe(
      harness.emulator.services.scheduler,
    );
  });

  it('serves each (account, Region) its own schedules, with ARNs naming both', async () => {
    const { services } = harness.emulator;
    services.scope('111111111111', 'eu-west-1').scheduler.synthesize({ count: 3, seed: 2 });
    services.scope('111111111111', 'us-west-2').scheduler.synthesize({ count: 5, seed: 3 });
    services.scope('222222222222', 'eu-west-1').scheduler.synthesize({ count: 11, seed: 4 });

    // A 12-digit access key id acts in that account.
    const a = await listAll('111111111111', 'eu-west-1');
    expect(a).toHaveLength(3);
    expect(a.every((arn) => arn.startsWith('arn:aws:scheduler:eu-west-1:111111111111:'))).toBe(true);
    expect(await listAll('111111111111', 'us-west-2')).toHaveLength(5);
    const b = await listAll('222222222222', 'eu-west-1');
    expect(b).toHaveLength(11);
    expect(b.every((arn) => arn.startsWith('arn:aws:scheduler:eu-west-1:222222222222:'))).toBe(true);
    // A Region nobody seeded is an empty account, as a fresh Region is.
    expect(await listAll('222222222222', 'ap-southeast-2')).toEqual([]);
    // The default account in another Region is another scope too.
    expect(await listAll('test', 'eu-west-1')).toEqual([]);
  });

  it('keeps Service Quotas per account and Region, with the account in the quota ARN', async () => {
    const { services } = harness.emulator;
    services.scope('333333333333', 'eu-central-1').serviceQuotas.setApplied('Number of schedules', 4242);
    const quota = async (key: string, region: string) => {
      const client = createServiceQuotasClient(signedAs(key, region));
      const answer = await client.send(new ListServiceQuotasCommand({ ServiceCode: 'scheduler' }));
      return answer.Quotas?.find((entry) => entry.QuotaName === 'Number of schedules');
    };
    const applied = await quota('333333333333', 'eu-central-1');
    expect(applied?.Value).toBe(4242);
    expect(applied?.QuotaArn).toMatch(/^arn:aws:servicequotas:eu-central-1:333333333333:scheduler\//);
    // Another Region of the same account keeps its own (the emulator's initial value).
    expect((await quota('333333333333', 'us-east-1'))?.Value).toBe(10_000_000);
  });

  it('addresses a scope through the HTTP control routes with ?account=&region=, refusing malformed ones', async () => {
    const url = `${harness.emulator.url}/_emulator/scheduler/synthesize?account=444444444444&region=sa-east-1`;
    const seeded = await fetch(url, { method: 'POST', body: JSON.stringify({ count: 4, seed: 9 }) });
    expect(seeded.status).toBe(200);
    expect(harness.emulator.services.scope('444444444444', 'sa-east-1').scheduler.count()).toBe(4);
    const bad = await fetch(`${harness.emulator.url}/_emulator/scheduler/count?account=4444`, {
      method: 'POST',
      body: '{}',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/account: expected a 12-digit/);
  });
});

describe('STS', () => {
  const sts = () => new STSClient(signedAs('test', 'us-east-1'));

  it('GetCallerIdentity names the account the key maps to', async () => {
    const identity = await sts().send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe('123456789012');
  });

  it('AssumeRole hands out credentials that act in the role account', async () => {
    const { services } = harness.emulator;
    services.sts.createRole('555555555555', 'hygiene-report');
    services.scope('555555555555', 'eu-west-1').scheduler.synthesize({ count: 6, seed: 5 });
    const answer = await sts().send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::555555555555:role/hygiene-report',
        RoleSessionName: 'report',
      }),
    );
    expect(answer.AssumedRoleUser?.Arn).toBe('arn:aws:sts::555555555555:assumed-role/hygiene-report/report');
    const credentials = answer.Credentials!;
    expect(credentials.Expiration!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    const assumed = new STSClient(signedAs(credentials.AccessKeyId!, 'eu-west-1', credentials.SessionToken));
    expect((await assumed.send(new GetCallerIdentityCommand({}))).Account).toBe('555555555555');
    const arns = await listAll(credentials.AccessKeyId!, 'eu-west-1', credentials.SessionToken);
    expect(arns).toHaveLength(6);
    expect(arns.every((arn) => arn.startsWith('arn:aws:scheduler:eu-west-1:555555555555:'))).toBe(true);
  });

  it('denies a role that does not exist or does not trust the caller with 403 AccessDenied', async () => {
    harness.emulator.services.sts.createRole('666666666666', 'picky', { trustedAccounts: ['999999999999'] });
    for (const roleArn of ['arn:aws:iam::777777777777:role/nobody', 'arn:aws:iam::666666666666:role/picky']) {
      const error = await sts()
        .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'report' }))
        .catch((caught: unknown) => caught as Error & { $metadata: { httpStatusCode: number } });
      expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect((error as Error).message).toBe(
        `User: arn:aws:iam::123456789012:root is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
  });

  it('refuses a session name outside [\\w+=,.@-]{2,64} with ValidationError', async () => {
    harness.emulator.services.sts.createRole('555555555555', 'hygiene-report');
    const error = await sts()
      .send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::555555555555:role/hygiene-report',
          RoleSessionName: 'a b',
        }),
      )
      .catch((caught: unknown) => caught as Error);
    expect(error).toMatchObject({ name: 'ValidationError' });
  });
});
