// Lambda entry point for the census: reads config and builds clients once per container, then
// runs one census per scheduled invocation and returns its summary.
import { createCloudWatchClient, createSchedulerClient, createServiceQuotasClient } from '../aws/clients.ts';
import { type CensusSummary, census } from '../census/census.ts';
import { readCensusConfig } from '../census/config.ts';
import { createLogger } from '../log.ts';

const config = readCensusConfig();
const log = createLogger(undefined, { function: 'census' });
// maxAttempts 1: every ListSchedules attempt, retries included, goes through the census's own budget.
const scheduler = createSchedulerClient({ maxAttempts: 1 });
const serviceQuotas = createServiceQuotasClient();
const cloudwatch = createCloudWatchClient();

export const handler = async (): Promise<CensusSummary> =>
  census(
    { scheduler, serviceQuotas, cloudwatch, clock: () => new Date(), log },
    {
      namespace: config.namespace,
      fallbackQuota: config.fallbackQuota,
      listTps: config.listTps,
      groups: config.groups,
    },
  );
