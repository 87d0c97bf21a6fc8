// The emulated Service Quotas API, exercised through the real SDK client over HTTP.
import {
  AccessDeniedException,
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ListServiceQuotasCommand,
  NoSuchResourceException,
  paginateListAWSDefaultServiceQuotas,
  paginateListServiceQuotas,
  ServiceException,
  type ServiceQuota,
} from '@aws-sdk/client-service-quotas';
import { beforeEach, describe, expect, it } from 'vitest';
import { scheduleCountQuotaName, schedulerQuotas } from '../../scripts/emulator/service-quotas.ts';
import { createServiceQuotasClient } from '../../src/aws/clients.ts';
import { useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();

beforeEach(() => {
  harness.emulator.services.serviceQuotas.reset();
});

async function listApplied(): Promise<ServiceQuota[]> {
  const quotas: ServiceQuota[] = [];
  for await (const page of paginateListServiceQuotas(
    { client: harness.serviceQuotas, pageSize: 2 },
    { ServiceCode: 'scheduler' },
  )) {
    quotas.push(...(page.Quotas ?? []));
  }
  return quotas;
}

describe('scheduler quotas', () => {
  it('lists every applied quota across pages, so the schedule quota is found by its name', async () => {
    // Act
    const quotas = await listApplied();

    // Assess
    expect(quotas).toHaveLength(schedulerQuotas.length);
    const scheduleQuota = quotas.find((quota) => quota.QuotaName === scheduleCountQuotaName);
    expect(scheduleQuota).toMatchObject({ ServiceCode: 'scheduler', Value: 10_000_000, Adjustable: true });
    expect(scheduleQuota?.QuotaArn).toBe(
      `arn:aws:servicequotas:us-east-1:123456789012:scheduler/${scheduleQuota?.QuotaCode}`,
    );
    expect(quotas.find((quota) => quota.QuotaName === 'Number of schedule groups')?.Value).toBe(500);
  });

  it('reports a raised applied value while the AWS default stays as it was', async () => {
    // Prepare
    harness.emulator.services.serviceQuotas.setApplied(scheduleCountQuotaName, 25_000_000);
    const code = (await listApplied()).find((quota) => quota.QuotaName === scheduleCountQuotaName)?.QuotaCode;

    // Act
    const applied = await harness.serviceQuotas.send(
      new GetServiceQuotaCommand({ ServiceCode: 'scheduler', QuotaCode: code }),
    );
    const defaults = await harness.serviceQuotas.send(
      new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'scheduler', QuotaCode: code }),
    );

    // Assess
    expect(applied.Quota?.Value).toBe(25_000_000);
    expect(defaults.Quota?.Value).toBe(10_000_000);
  });

  it('leaves a quota without applied value out of the list and answers NoSuchResource for it, but still serves its default', async () => {
    // Prepare
    const code = schedulerQuotas.find((quota) => quota.quotaName === scheduleCountQuotaName)?.quotaCode;
    harness.emulator.services.serviceQuotas.setApplied(scheduleCountQuotaName, undefined);
    harness.emulator.services.serviceQuotas.setDefault(scheduleCountQuotaName, 1_000_000);

    // Act
    const listed = await listApplied();
    const lookupError = await harness.serviceQuotas
      .send(new GetServiceQuotaCommand({ ServiceCode: 'scheduler', QuotaCode: code }))
      .catch((error: unknown) => error);
    const defaults = [];
    for await (const page of paginateListAWSDefaultServiceQuotas(
      { client: harness.serviceQuotas },
      { ServiceCode: 'scheduler' },
    )) {
      defaults.push(...(page.Quotas ?? []));
    }

    // Assess
    expect(listed.map((quota) => quota.QuotaName)).not.toContain(scheduleCountQuotaName);
    expect(lookupError).toBeInstanceOf(NoSuchResourceException);
    expect(defaults.find((quota) => quota.QuotaName === scheduleCountQuotaName)?.Value).toBe(1_000_000);
  });

  it('answers NoSuchResource for a service code it does not know', async () => {
    // Act
    const attempt = harness.serviceQuotas.send(
      new ListServiceQuotasCommand({ ServiceCode: 'no-such-service' }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(NoSuchResourceException);
  });
});

describe('failure modes', () => {
  it('answers every call with AccessDeniedException when IAM denies it', async () => {
    // Prepare
    harness.emulator.services.serviceQuotas.setMode('accessDenied');

    // Act
    const attempt = harness.serviceQuotas.send(new ListServiceQuotasCommand({ ServiceCode: 'scheduler' }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(AccessDeniedException);
    await expect(attempt).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });

  it('answers ServiceException 500 in the service error mode', async () => {
    // Prepare
    harness.emulator.services.serviceQuotas.setMode('serviceError');
    const client = createServiceQuotasClient({ ...harness.clientOptions, maxAttempts: 1 });

    // Act
    const attempt = client.send(new ListServiceQuotasCommand({ ServiceCode: 'scheduler' }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ServiceException);
    await expect(attempt).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
  });

  it('switches mode through the HTTP control route, for an emulator in another process', async () => {
    // Act
    const response = await fetch(`${harness.emulator.url}/_emulator/servicequotas/setMode`, {
      method: 'POST',
      body: JSON.stringify({ mode: 'accessDenied' }),
    });
    const attempt = harness.serviceQuotas.send(new ListServiceQuotasCommand({ ServiceCode: 'scheduler' }));

    // Assess
    expect(response.status).toBe(200);
    await expect(attempt).rejects.toBeInstanceOf(AccessDeniedException);
  });
});
