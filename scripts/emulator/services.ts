// The set of emulated services one server hosts, each reachable by name for test controls.

import { type CloudFormationService, createCloudFormationService } from './cloudformation.ts';
import { type CloudWatchService, createCloudWatchService } from './cloudwatch.ts';
import type { ControlPlane, EmulatedService } from './core.ts';
import { createDynamoDbService, type DynamoDbService } from './dynamodb.ts';
import { createLambdaService, type LambdaService } from './lambda.ts';
import { createSchedulerService, type SchedulerService } from './scheduler.ts';
import { createServiceQuotasService, type ServiceQuotasService } from './service-quotas.ts';

export interface ServiceRegistry {
  scheduler: SchedulerService;
  cloudwatch: CloudWatchService;
  serviceQuotas: ServiceQuotasService;
  lambda: LambdaService;
  dynamodb: DynamoDbService;
  cloudformation: CloudFormationService;
  all: EmulatedService[];
  byName(name: string): EmulatedService | undefined;
}

export function createServiceRegistry(plane: ControlPlane): ServiceRegistry {
  const scheduler = createSchedulerService(plane);
  const cloudwatch = createCloudWatchService(plane);
  const serviceQuotas = createServiceQuotasService(plane);
  const lambda = createLambdaService(plane);
  const dynamodb = createDynamoDbService();
  const cloudformation = createCloudFormationService(() => plane.now());
  // Order matters only for identification: the JSON-protocol services claim requests by
  // x-amz-target, so they go first; CloudFormation (Query protocol) claims form-encoded bodies of its
  // API version; the REST services claim theirs by path.
  const all: EmulatedService[] = [cloudwatch, serviceQuotas, dynamodb, cloudformation, lambda, scheduler];
  return {
    scheduler,
    cloudwatch,
    serviceQuotas,
    lambda,
    dynamodb,
    cloudformation,
    all,
    byName: (name) => all.find((service) => service.name === name),
  };
}
