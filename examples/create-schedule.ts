// The create path as a library: one schedule, a week from now at 09:00 in Berlin, that deletes itself
// after it runs. docs/create.md shows this file; test/examples.test.ts runs it against the emulator.
// Reads CREATE_SCHEDULE_GROUP and SCHEDULER_ROLE_ARN (the stack's outputs) and the SDK's usual
// AWS_REGION, credentials and endpoint variables.
//   npx tsx examples/create-schedule.ts
import { createSchedulerClient } from 'schedule-hygiene/clients';
import { createOneTimeSchedule, readCreateConfig } from 'schedule-hygiene/create';

const deps = { scheduler: createSchedulerClient(), clock: () => new Date() };
const defaults = readCreateConfig(process.env); // CREATE_SCHEDULE_GROUP, SCHEDULER_ROLE_ARN

// A calendar day a week ahead (UTC), at 09:00 wall-clock time in the zone below.
const day = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);

const created = await createOneTimeSchedule(
  deps,
  {
    at: `${day}T09:00:00`, // local wall-clock time ...
    timezone: 'Europe/Berlin', // ... in this IANA zone (default UTC); or runAt: '<ISO instant>'
    targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:my-target',
    input: { orderId: '42' }, // any JSON value, at most 256 KB serialized (UTF-8)
    businessId: 'order-42', // or namePrefix; the name is <prefix>-<24 hex characters>
    idempotencyKey: `order-42-reminder-${day}`, // a retry returns the same schedule, never a second one
    flexibleWindowMinutes: 15, // optional, 1-1440
    retry: { maximumEventAgeSeconds: 3600, maximumRetryAttempts: 3 }, // optional
    deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:my-dlq', // optional
  },
  defaults,
);
console.log(JSON.stringify(created));
// → {"name":"order-42-…","arn":"…","groupName":"…","scheduleExpression":"at(<day>T09:00:00)",
//    "timezone":"Europe/Berlin","runsAt":"<day>T07:00:00.000Z" (or T08:00 in winter)}
