// The lean request path against the SDK's own send, through the emulator over HTTP: the same outputs,
// the same errors as the budgets classify them, the same wire requests (signed, clientToken on
// delete), the same timeout and abort behaviour, and the SDK's endpoint, region and credential rules.
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchGetItemCommand, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { GenerateMacCommand } from '@aws-sdk/client-kms';
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  GetScheduleOutput$,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  ListSchedulesOutput$,
  ResourceNotFoundException,
  type SchedulerClient,
  ScheduleSummary$,
} from '@aws-sdk/client-scheduler';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { isNotFound, isThrottling, isTransient, RequestBudget } from '../../src/aws/budget.ts';
import { createDynamoDbClient, createKmsClient, createSchedulerClient } from '../../src/aws/clients.ts';
import { LeanSchedulerClient } from '../../src/aws/scheduler-lean.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { sweep } from '../../src/sweep/sweep.ts';
import { ACCOUNT_ID, HELD_ELAPSED, REGION, useTestEmulator } from '../support/emulator.ts';
import { createTombstoneTable, tombstoneStore } from '../support/tombstones.ts';
import { oneTime, recurring, sweepOptions } from '../sweep/fixtures.ts';

const env = useTestEmulator();

const sdk = () => createSchedulerClient({ ...env.clientOptions, maxAttempts: 1 });
const lean = () => createSchedulerClient({ ...env.clientOptions, maxAttempts: 1, leanRequestPath: true });

/** A schedule with every optional member Scheduler returns, so each one's deserialization is compared. */
const full: SeedDefinition = {
  Name: 'full',
  GroupName: 'orders',
  ScheduleExpression: 'rate(5 minutes)',
  ScheduleExpressionTimezone: 'Europe/Paris',
  StartDate: new Date('2025-01-01T00:00:00Z'),
  EndDate: new Date('2030-01-01T00:00:00Z'),
  Description: 'every optional member',
  State: 'ENABLED',
  KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  ActionAfterCompletion: 'NONE',
  FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
  Target: {
    Arn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:queue.fifo`,
    RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler`,
    Input: '{"secret":"value"}',
    DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:dlq` },
    RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 2 },
    SqsParameters: { MessageGroupId: 'group-1' },
  },
} as SeedDefinition;

beforeEach(() => {
  const { plane, services } = env.emulator;
  services.scheduler.reset();
  plane.resetStats();
  Object.assign(plane.controls, {
    rateLimits: {},
    latencyMs: 0,
    latencyByOperation: {},
    errorRates: {},
    throttleRates: {},
    random: Math.random,
  });
  services.scheduler.createGroup('orders');
  services.scheduler.seed(
    [
      full,
      oneTime({ name: 'finished', at: '2025-06-01T00:00:00', zone: 'America/New_York' }),
      recurring('hourly', 'cron(0 * * * ? *)'),
      ...Array.from({ length: 7 }, (_, index) =>
        oneTime({ name: `page-${index}`, at: '2031-01-01T00:00:00' }),
      ),
    ],
    { allowUnknownZones: true },
  );
});

/** What the two paths must agree on: the whole output, $metadata but for the request id. */
function comparable(output: { $metadata?: object }) {
  const { $metadata, ...rest } = output as { $metadata: { requestId?: string } };
  return { ...rest, $metadata: { ...$metadata, requestId: typeof $metadata.requestId } };
}

/** The hot commands, as one type (the SDK's send overloads take one command type at a time). */
type HotCommand = GetScheduleCommand | DeleteScheduleCommand | ListSchedulesCommand;

async function failure(client: SchedulerClient, command: HotCommand) {
  // biome-ignore lint/suspicious/noExplicitAny: three command types through one send.
  return client.send(command as any).then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: unknown) => error as Error & { $fault?: string; $metadata?: { httpStatusCode?: number } },
  );
}

function errorShape(error: Error & { $fault?: string; $metadata?: { httpStatusCode?: number } }) {
  return {
    constructor: error.constructor,
    name: error.name,
    message: error.message,
    fault: error.$fault,
    status: error.$metadata?.httpStatusCode,
    attempts: (error.$metadata as { attempts?: number } | undefined)?.attempts,
    notFound: isNotFound(error),
    throttling: isThrottling(error),
    transient: isTransient(error),
  };
}

describe('lean request path: outputs', () => {
  it('returns the same GetSchedule output as the SDK, timestamps as Dates, every member', async () => {
    for (const [name, group] of [
      ['full', 'orders'],
      ['finished', 'default'],
      ['hourly', 'default'],
    ] as const) {
      // Act
      const viaSdk = await sdk().send(new GetScheduleCommand({ Name: name, GroupName: group }));
      const viaLean = await lean().send(new GetScheduleCommand({ Name: name, GroupName: group }));

      // Assess
      expect(comparable(viaLean)).toEqual(comparable(viaSdk));
    }
    const viaLean = await lean().send(new GetScheduleCommand({ Name: 'full', GroupName: 'orders' }));
    expect(viaLean.StartDate).toEqual(new Date('2025-01-01T00:00:00Z'));
    expect(viaLean.LastModificationDate).toBeInstanceOf(Date);
    expect(viaLean.Target?.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 2 });
    expect(viaLean.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 });
  });

  it('pages ListSchedules exactly as the SDK does, with every filter', async () => {
    const inputs = [
      { MaxResults: 3 },
      { MaxResults: 100, GroupName: 'orders' },
      { MaxResults: 4, NamePrefix: 'page-' },
      { MaxResults: 100, State: 'ENABLED' as const },
    ];
    for (const input of inputs) {
      let tokens: [string | undefined, string | undefined] = [undefined, undefined];
      do {
        // Act
        const viaSdk = await sdk().send(new ListSchedulesCommand({ ...input, NextToken: tokens[0] }));
        const viaLean = await lean().send(new ListSchedulesCommand({ ...input, NextToken: tokens[1] }));

        // Assess
        expect(comparable(viaLean)).toEqual(comparable(viaSdk));
        tokens = [viaSdk.NextToken, viaLean.NextToken];
      } while (tokens[0] !== undefined);
    }
  });

  it('deletes with the caller ClientToken: a repeat with the same token succeeds, another token finds nothing', async () => {
    // Act
    const first = await lean().send(
      new DeleteScheduleCommand({ Name: 'finished', GroupName: 'default', ClientToken: 'token-1' }),
    );
    const repeat = await lean().send(
      new DeleteScheduleCommand({ Name: 'finished', GroupName: 'default', ClientToken: 'token-1' }),
    );
    const other = await failure(
      lean(),
      new DeleteScheduleCommand({ Name: 'finished', GroupName: 'default', ClientToken: 'token-2' }),
    );

    // Assess
    expect(comparable(first)).toEqual({
      $metadata: {
        httpStatusCode: 200,
        requestId: 'string',
        attempts: 1,
        totalRetryDelay: 0,
        extendedRequestId: undefined,
        cfId: undefined,
      },
    });
    expect(comparable(repeat)).toEqual(comparable(first));
    expect(other).toBeInstanceOf(ResourceNotFoundException);
    expect(env.emulator.services.scheduler.has('default', 'finished')).toBe(false);
  });

  it('reads each output member the SDK model marks as a timestamp into a Date', () => {
    // The lean reader is compiled from these schemas; if the model moved a timestamp, this says where.
    const timestamps = (schema: readonly unknown[]) =>
      (schema[4] as string[]).filter((_, index) => (schema[5] as unknown[])[index] === 4);
    expect(timestamps(GetScheduleOutput$)).toEqual([
      'StartDate',
      'EndDate',
      'CreationDate',
      'LastModificationDate',
    ]);
    expect(timestamps(ScheduleSummary$)).toEqual(['CreationDate', 'LastModificationDate']);
    expect([...(ListSchedulesOutput$[4] as string[])].sort()).toEqual(['NextToken', 'Schedules']);
  });
});

describe('lean request path: errors, timeouts and aborts', () => {
  it('raises the same modeled errors as the SDK, classified the same by the budgets', async () => {
    const cases: { command: () => HotCommand; setup?: () => void }[] = [
      { command: () => new GetScheduleCommand({ Name: 'missing', GroupName: 'default' }) },
      { command: () => new GetScheduleCommand({ Name: 'full', GroupName: 'no-such-group' }) },
      { command: () => new ListSchedulesCommand({ GroupName: 'no-such-group' }) },
      { command: () => new ListSchedulesCommand({ NextToken: 'not-a-token' }) },
      { command: () => new DeleteScheduleCommand({ Name: 'missing', GroupName: 'default' }) },
      {
        command: () => new GetScheduleCommand({ Name: 'full', GroupName: 'orders' }),
        setup: () => {
          env.emulator.plane.controls.throttleRates = { GetSchedule: 1 };
        },
      },
      {
        command: () => new DeleteScheduleCommand({ Name: 'hourly', GroupName: 'default', ClientToken: 'x' }),
        setup: () => {
          env.emulator.plane.controls.errorRates = { DeleteSchedule: 1 };
        },
      },
      {
        command: () => new ListSchedulesCommand({}),
        setup: () => {
          env.emulator.plane.controls.errorRates = { ListSchedules: 1 };
        },
      },
    ];
    const seen = new Set<string>();
    for (const { command, setup } of cases) {
      env.emulator.plane.controls.throttleRates = {};
      env.emulator.plane.controls.errorRates = {};
      setup?.();

      // Act
      const viaSdk = errorShape(await failure(sdk(), command()));
      const viaLean = errorShape(await failure(lean(), command()));

      // Assess
      expect(viaLean).toEqual(viaSdk);
      seen.add(viaLean.name);
    }
    expect([...seen].sort()).toEqual([
      'InternalServerException',
      'ResourceNotFoundException',
      'ThrottlingException',
      'ValidationException',
    ]);
  });

  it('keeps the raw answer on an error, hidden, as the SDK does', async () => {
    // Act
    const error = await failure(lean(), new GetScheduleCommand({ Name: 'missing', GroupName: 'default' }));

    // Assess
    expect((error as { $response?: { statusCode: number } }).$response?.statusCode).toBe(404);
    expect(Object.keys(error)).not.toContain('$response');
  });

  it('abandons a request that outlasts the request timeout as a transient TimeoutError', async () => {
    // Prepare: the emulator answers GetSchedule only after 1.5 s
    env.emulator.plane.controls.latencyByOperation = { GetSchedule: 1_500 };
    const client = createSchedulerClient({
      ...env.clientOptions,
      maxAttempts: 1,
      requestTimeoutMs: 200,
      leanRequestPath: true,
    });
    const started = performance.now();

    // Act
    const error = await failure(client, new GetScheduleCommand({ Name: 'full', GroupName: 'orders' }));

    // Assess
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.name).toBe('TimeoutError');
    expect(isTransient(error)).toBe(true);
  });

  it('aborts an in-flight request on its abort signal, as the SDK does', async () => {
    // Prepare
    env.emulator.plane.controls.latencyByOperation = { DeleteSchedule: 1_000 };
    const shapes = [];
    for (const client of [sdk(), lean()]) {
      const controller = new AbortController();
      const started = performance.now();
      setTimeout(() => controller.abort(), 50);

      // Act
      const error = await client
        .send(new DeleteScheduleCommand({ Name: 'hourly', GroupName: 'default', ClientToken: 't' }), {
          abortSignal: controller.signal,
        })
        .then(
          () => undefined,
          (caught: unknown) => caught as Error,
        );

      // Assess
      expect(performance.now() - started).toBeLessThan(800);
      shapes.push({ name: error?.name, transient: isTransient(error), throttling: isThrottling(error) });
    }
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[1]?.name).toBe('AbortError');
  });

  it('goes through a request budget with the same retries: throttled answers are retried until one passes', async () => {
    // Prepare: the first two GetSchedule answers are throttled
    let throttledLeft = 2;
    env.emulator.plane.controls.throttleRates = { GetSchedule: 1 };
    env.emulator.plane.controls.random = () => (throttledLeft-- > 0 ? 0 : 1);
    const budget = new RequestBudget('GetSchedule', { ratePerSecond: 1000, baseDelayMs: 1, maxDelayMs: 2 });
    const client = lean();

    // Act
    const output = await budget.call(() =>
      client.send(new GetScheduleCommand({ Name: 'full', GroupName: 'orders' })),
    );

    // Assess
    expect(output.Name).toBe('full');
    expect(budget.stats).toMatchObject({ requests: 3, throttled: 2, failures: 0 });
    expect(env.emulator.plane.stats.get('GetSchedule')).toMatchObject({ calls: 3, throttled: 2 });
  });

  it('leaves every other command to the SDK pipeline', async () => {
    // Act
    const groups = await lean().send(new ListScheduleGroupsCommand({}));

    // Assess
    expect(groups.ScheduleGroups?.map((group) => group.Name).sort()).toEqual(['default', 'orders']);
  });

  it('refuses to be built with SDK retries, which it would not make', () => {
    expect(() => createSchedulerClient({ ...env.clientOptions, leanRequestPath: true })).toThrow(
      /maxAttempts 1/,
    );
  });
});

describe('lean request path: the sweep', () => {
  it('sweeps to the same result as the SDK path, under a throttling storm', async () => {
    // Prepare: a third of every operation's answers are throttled
    env.emulator.plane.setNow(new Date('2026-01-01T00:00:00Z'));
    env.emulator.plane.controls.throttleRates = { '*': 0.33 };
    const log = createMemoryLogger();

    await createTombstoneTable(env);

    // Act
    const summary = await sweep(
      {
        scheduler: lean(),
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        elapsed: HELD_ELAPSED,
        log,
        tombstones: tombstoneStore(env),
      },
      sweepOptions({
        concurrency: 4,
        budgetTuning: { baseDelayMs: 1, maxDelayMs: 5, maxThrottleAttempts: 40 },
      }),
    );

    // Assess: exactly the finished one-time schedule went
    expect(summary).toMatchObject({ scanned: 10, deleted: 1, failed: 0, complete: true });
    expect(summary.throttled).toBeGreaterThan(0);
    expect(env.emulator.services.scheduler.has('default', 'finished')).toBe(false);
    expect(env.emulator.services.scheduler.has('orders', 'full')).toBe(true);
  });
});

/** A local server that records raw requests and answers like Scheduler would, for wire checks. */
async function recordingServer() {
  const requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      response.setHeader('content-type', 'application/json');
      response.setHeader('x-amzn-requestid', 'recorded');
      response.end(request.headers['x-amz-target'] === 'TrentService.GenerateMac' ? '{"Mac":"AAEC"}' : '{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Recomputes the SigV4 signature of a recorded request (body included) with the same credentials and date. */
async function expectedAuthorization(
  recorded: { method: string; url: string; headers: IncomingMessage['headers']; body?: string },
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region: string,
  service = 'scheduler',
) {
  const url = new URL(recorded.url, 'http://placeholder');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(recorded.headers.authorization))![1]!.split(';');
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(recorded.headers[name])]));
  // applyChecksum off: sign exactly the headers the request signed (the SDK's own path adds and signs
  // x-amz-content-sha256; the lean path's aws4 leaves it out, as SigV4 allows outside S3).
  const signer = new SignatureV4({
    credentials,
    region,
    service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const amzDate = String(recorded.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signed = await signer.sign(
    {
      method: recorded.method,
      protocol: 'http:',
      hostname: headers.host!.split(':')[0]!,
      // As sent: the signer escapes the already-escaped path once more, as the client's did.
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(recorded.body ? { body: recorded.body } : {}),
    },
    { signingDate },
  );
  return signed.headers.authorization;
}

describe('lean request path: on the wire', () => {
  let server: Awaited<ReturnType<typeof recordingServer>>;
  beforeEach(async () => {
    server = await recordingServer();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it('sends the same method, path and query as the SDK, SigV4-signed for scheduler, clientToken on delete', async () => {
    // Prepare
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    };
    const options = { endpoint: server.url, region: 'eu-west-1', credentials, maxAttempts: 1 };
    const commands = () => [
      new GetScheduleCommand({ Name: 'name with space/é', GroupName: 'orders' }),
      new DeleteScheduleCommand({ Name: 'finished', GroupName: 'default', ClientToken: 'token-1' }),
      new ListSchedulesCommand({ MaxResults: 100, GroupName: 'g', NamePrefix: 'p', NextToken: 'a+b/c=' }),
    ];

    // Act
    for (const client of [
      createSchedulerClient(options),
      createSchedulerClient({ ...options, leanRequestPath: true }),
    ]) {
      // biome-ignore lint/suspicious/noExplicitAny: three command types through one send.
      for (const command of commands()) await client.send(command as any);
    }

    // Assess
    const viaSdk = server.requests.slice(0, 3);
    const viaLean = server.requests.slice(3);
    expect(viaLean.map(({ method, url }) => ({ method, url }))).toEqual(
      viaSdk.map(({ method, url }) => ({ method, url })),
    );
    expect(viaLean[1]?.url).toContain('clientToken=token-1');
    expect(viaLean[0]?.url).toBe('/schedules/name%20with%20space%2F%C3%A9?groupName=orders');
    for (const recorded of [...viaSdk, ...viaLean]) {
      expect(recorded.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/scheduler\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-date/,
      );
      expect(recorded.headers.authorization).toBe(
        await expectedAuthorization(recorded, credentials, 'eu-west-1'),
      );
    }
  });

  it('signs the path it sends when the endpoint has a path prefix with characters aws4 encodes first', async () => {
    // Prepare: a proxy-style prefix; the SDK escapes names and queries, so only a prefix can hold these
    const credentials = { accessKeyId: 'AKIDPREFIX', secretAccessKey: 'prefix-secret' };
    const client = createSchedulerClient({
      endpoint: `${server.url}/a|b^[c]`,
      region: 'eu-west-1',
      credentials,
      maxAttempts: 1,
      leanRequestPath: true,
    });

    // Act
    await client.send(new GetScheduleCommand({ Name: 'n', GroupName: 'default' }));

    // Assess: sent encoded, as aws4 signs it, and the signature is the SDK signer's for what was sent
    const [recorded] = server.requests;
    expect(recorded?.url).toBe('/a%7Cb%5E%5Bc%5D/schedules/n?groupName=default');
    expect(recorded?.headers.authorization).toBe(
      await expectedAuthorization(recorded!, credentials, 'eu-west-1'),
    );
  });

  it('refuses an endpoint path prefix with a malformed escape, naming it, and sends nothing', async () => {
    const client = createSchedulerClient({
      endpoint: `${server.url}/100%|`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDPREFIX', secretAccessKey: 'prefix-secret' },
      maxAttempts: 1,
      leanRequestPath: true,
    });

    const failure = await client.send(new GetScheduleCommand({ Name: 'n' })).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(URIError);
    expect(String((failure as Error).message)).toContain("'/100%|/schedules/n'");
    expect(server.requests).toEqual([]);
  });

  it('signs with the keys of the moment when a provider rotates them inside the same object', async () => {
    // Prepare: one credentials object, its keys swapped on every refresh (always near expiry)
    const credentials = { accessKeyId: 'AKIDFIRST', secretAccessKey: 'secret-0', expiration: new Date() };
    let refreshes = 0;
    const provider = async () => {
      refreshes += 1;
      credentials.accessKeyId = `AKIDKEY${refreshes}`;
      credentials.secretAccessKey = `secret-${refreshes}`;
      credentials.expiration = new Date(Date.now() + 60_000);
      return credentials;
    };
    const client = createSchedulerClient({
      endpoint: server.url,
      region: 'eu-west-1',
      credentials: provider,
      maxAttempts: 1,
      leanRequestPath: true,
    });

    // Act
    const expected: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      await client.send(new GetScheduleCommand({ Name: `s-${index}`, GroupName: 'default' }));
      const recorded = server.requests[index]!;
      const keyId = /Credential=([^/]+)\//.exec(String(recorded.headers.authorization))![1]!;
      const secret = `secret-${keyId.replace('AKIDKEY', '')}`;
      expected.push(
        String(
          await expectedAuthorization(recorded, { accessKeyId: keyId, secretAccessKey: secret }, 'eu-west-1'),
        ),
      );
    }

    // Assess: each request signed with the secret that goes with the key id it names
    expect(refreshes).toBeGreaterThanOrEqual(3);
    expect(server.requests.map((recorded) => recorded.headers.authorization)).toEqual(expected);
  });

  it('follows AWS_ENDPOINT_URL_SCHEDULER, AWS_REGION and the default credential chain, session token included', async () => {
    // Prepare: configured only through the environment, as on Lambda
    vi.stubEnv('AWS_ENDPOINT_URL_SCHEDULER', server.url);
    vi.stubEnv('AWS_REGION', 'ap-southeast-2');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-token-from-env');
    const client = new LeanSchedulerClient({ maxAttempts: 1 });

    // Act
    const output = await client.send(new GetScheduleCommand({ Name: 'any', GroupName: 'default' }));

    // Assess
    expect(output.$metadata).toMatchObject({ httpStatusCode: 200, requestId: 'recorded' });
    const recorded = server.requests[0]!;
    expect(recorded.url).toBe('/schedules/any?groupName=default');
    expect(recorded.headers['x-amz-security-token']).toBe('session-token-from-env');
    expect(recorded.headers.authorization).toContain('Credential=ASIAFROMENV/');
    expect(recorded.headers.authorization).toContain('/ap-southeast-2/scheduler/aws4_request');
    expect(recorded.headers.authorization).toBe(
      await expectedAuthorization(
        recorded,
        {
          accessKeyId: 'ASIAFROMENV',
          secretAccessKey: 'secret-from-env',
          sessionToken: 'session-token-from-env',
        },
        'ap-southeast-2',
      ),
    );
  });

  it('signs BatchWriteItem, BatchGetItem and GenerateMac bodies as the SDK signer does, session token included', async () => {
    // Prepare: a body with characters outside ASCII, so the payload hash sees UTF-8
    const credentials = {
      accessKeyId: 'ASIAGATE',
      secretAccessKey: 'gate/secret+key',
      sessionToken: 'session/token+with==',
    };
    const options = { endpoint: server.url, region: 'eu-central-1', credentials, leanRequestPath: true };
    const dynamodb = createDynamoDbClient(options);
    const kms = createKmsClient(options);

    // Act
    await dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: { tombstones: [{ PutRequest: { Item: { pk: { S: 'naïve ✓' }, n: { N: '1' } } } }] },
      }),
    );
    await dynamodb.send(
      new BatchGetItemCommand({ RequestItems: { state: { Keys: [{ pk: { S: 'protect#a#b' } }] } } }),
    );
    await kms.send(
      new GenerateMacCommand({ KeyId: 'alias/k', MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('m') }),
    );

    // Assess
    expect(server.requests.map((recorded) => recorded.headers['x-amz-target'])).toEqual([
      'DynamoDB_20120810.BatchWriteItem',
      'DynamoDB_20120810.BatchGetItem',
      'TrentService.GenerateMac',
    ]);
    expect(server.requests[0]?.body).toContain('naïve ✓');
    for (const [index, service] of ['dynamodb', 'dynamodb', 'kms'].entries()) {
      const recorded = server.requests[index]!;
      expect(recorded.headers['x-amz-security-token']).toBe(credentials.sessionToken);
      expect(recorded.headers.authorization).toBe(
        await expectedAuthorization(recorded, credentials, 'eu-central-1', service),
      );
    }
  });
});
