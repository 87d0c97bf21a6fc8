// Runs the emulator as a standalone server for manual runs, the demo and benchmarks in another process:
//   npm run emulator -- --port 4566 [--host 127.0.0.1]
// and prints the environment that points the SDK (and `sls invoke local`) at it.

import { pathToFileURL } from 'node:url';
import { InputError } from '../../src/errors.ts';
import { NAME_FORM, NAME_PATTERN } from '../../src/schedule/name.ts';
import { ExitCode, HELP_OPTION, parseCommandLine, readWholeNumber, runTool, type ToolIo } from '../cli.ts';
import { DEMO_ORGANIZATION, seedOrganization } from './organization.ts';
import { type RunningEmulator, startEmulator } from './server.ts';

interface MainOptions {
  port: number;
  host: string;
  /** DynamoDB tables (hash key `pk`) to create at start: by default the dev stage's sweep state table. */
  tables: string[];
  /** Schedule groups to create at start: by default the dev stage's group, where the create path writes. */
  groups: string[];
  /** Seed the demo organization (organization.ts): accounts × Regions for `npm run report`. */
  organization?: boolean;
}

/** The state table `sls invoke local -f sweep` names for the default stage (resources/sweep.yml). */
export const DEFAULT_STATE_TABLE = 'schedule-hygiene-dev-state';
/** The schedule group the dev stage's create function writes to (serverless.yml: scheduleGroup). */
export const DEFAULT_SCHEDULE_GROUP = 'schedule-hygiene-dev';
/**
 * An execution role ARN for local runs of the create path (the emulator checks its form, not that it
 * exists). A deployed create function builds the real one from SCHEDULER_ROLE_NAME instead.
 */
export const LOCAL_SCHEDULER_ROLE_ARN =
  'arn:aws:iam::123456789012:role/schedule-hygiene-dev-us-east-1-scheduler';
export const DEFAULT_REGION = 'us-east-1';
/** The dev stage's tombstone table (hash key `pk`, range key `sk`), created at start too. */
export const DEFAULT_TOMBSTONE_TABLE = 'schedule-hygiene-dev-tombstones';
/** The dev stage's tombstone MAC key alias (serverless.yml: alias/<service>-<stage>-tombstone-mac). */
export const DEFAULT_MAC_KEY_ALIAS = 'alias/schedule-hygiene-dev-tombstone-mac';

const HOST = /^[A-Za-z0-9.:\-[\]]{1,253}$/;
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/** `value` when it matches `pattern` in full, else an InputError naming `option`. */
function checked(option: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) throw new InputError(option, expected, value);
  return value;
}

export function parseArguments(argv: readonly string[]): MainOptions | 'help' {
  const values = parseCommandLine(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    table: { type: 'string', multiple: true },
    group: { type: 'string', multiple: true },
    organization: { type: 'boolean' },
    ...HELP_OPTION,
  });
  if (values.help) return 'help';
  return {
    port: values.port === undefined ? 4566 : readWholeNumber('--port', values.port, 0, 65_535),
    // An empty host would make Node listen on every interface instead of the loopback default.
    host: checked('--host', values.host ?? '127.0.0.1', HOST, 'a host name or IP address'),
    tables: [
      DEFAULT_STATE_TABLE,
      ...(values.table ?? []).map((name) =>
        checked('--table', name, TABLE_NAME, 'a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .)'),
      ),
    ],
    groups: [
      DEFAULT_SCHEDULE_GROUP,
      ...(values.group ?? []).map((name) =>
        checked('--group', name, NAME_PATTERN, `a schedule group name (${NAME_FORM})`),
      ),
    ],
    ...(values.organization ? { organization: true } : {}),
  };
}

const USAGE =
  'Usage: npm run emulator -- [--port 4566] [--host 127.0.0.1] [--table <state table>]... [--group <schedule group>]... [--organization]';

export function environmentLines(url: string): string[] {
  return [
    `AWS_ENDPOINT_URL_SCHEDULER=${url}`,
    `AWS_ENDPOINT_URL_CLOUDWATCH=${url}`,
    `AWS_ENDPOINT_URL_SERVICE_QUOTAS=${url}`,
    `AWS_ENDPOINT_URL_LAMBDA=${url}`,
    `AWS_ENDPOINT_URL_DYNAMODB=${url}`,
    `AWS_ENDPOINT_URL_STS=${url}`,
    `AWS_ENDPOINT_URL_CLOUDFORMATION=${url}`,
    `AWS_ENDPOINT_URL_KMS=${url}`,
    'AWS_ACCESS_KEY_ID=test',
    'AWS_SECRET_ACCESS_KEY=test',
    // The SDK reads AWS_REGION; the AWS CLI reads AWS_DEFAULT_REGION (and asks for one without it).
    `AWS_REGION=${DEFAULT_REGION}`,
    `AWS_DEFAULT_REGION=${DEFAULT_REGION}`,
    'AWS_EC2_METADATA_DISABLED=true',
    // The create path's defaults (`npm run create-schedule`, `sls invoke local -f create`).
    `CREATE_SCHEDULE_GROUP=${DEFAULT_SCHEDULE_GROUP}`,
    `SCHEDULER_ROLE_ARN=${LOCAL_SCHEDULER_ROLE_ARN}`,
  ];
}

/**
 * Creates what the dev stage's functions expect to find: the state tables (hash key `pk`) and the
 * schedule groups (the create path's). Shared with the tests that run `sls invoke local`.
 */
export async function prepareDevStage(
  emulator: RunningEmulator,
  options: Pick<MainOptions, 'tables' | 'groups'> = {
    tables: [DEFAULT_STATE_TABLE],
    groups: [DEFAULT_SCHEDULE_GROUP],
  },
): Promise<{ macKeyArn: string }> {
  for (const table of options.tables) await emulator.services.dynamodb.createTable(table, { hash: 'pk' });
  await emulator.services.dynamodb.createTable(DEFAULT_TOMBSTONE_TABLE, { hash: 'pk', range: 'sk' });
  // The dev stage's tombstone MAC key, by the alias the stack gives it (serverless.yml).
  const macKey = emulator.services.kms.createHmacKey('123456789012', DEFAULT_REGION, 'dev tombstones');
  emulator.services.kms.createAlias(DEFAULT_MAC_KEY_ALIAS, macKey);
  for (const group of options.groups) emulator.services.scheduler.createGroup(group);
  return { macKeyArn: macKey };
}

/** Runs until SIGINT or SIGTERM; resolves with the exit code then. */
async function main(argv: string[], io: ToolIo): Promise<number> {
  const options = parseArguments(argv);
  if (options === 'help') {
    io.stdout(USAGE);
    return ExitCode.ok;
  }
  const emulator = await startEmulator({ port: options.port, host: options.host });
  const { macKeyArn } = await prepareDevStage(emulator, options);
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${emulator.port}`;
  console.log(`Emulator listening on ${url}`);
  console.log(`DynamoDB tables: ${[...options.tables, DEFAULT_TOMBSTONE_TABLE].join(', ')}`);
  console.log(`Schedule groups: default, ${options.groups.join(', ')}`);
  // Restore and a deleting `sls invoke local` need the key's ARN: outside Lambda an alias name
  // names no account (docs/restore.md).
  console.log(`Tombstone MAC key: ${macKeyArn} (${DEFAULT_MAC_KEY_ALIAS})`);
  console.log('Point the AWS SDK at it with:');
  for (const line of environmentLines(url)) console.log(`  export ${line}`);
  if (options.organization) {
    const cells = seedOrganization(emulator.services, DEMO_ORGANIZATION);
    const accounts = [...new Set(cells.map((cell) => cell.accountId))];
    const regions = [...new Set(cells.map((cell) => cell.region))];
    console.log(`Organization: ${cells.length} account-Regions in ${accounts.length} accounts seeded:`);
    for (const cell of cells) {
      console.log(
        `  ${cell.accountId} ${cell.region}: ${cell.population.created} schedules, ${cell.population.expectedDeletions} finished, quota ${cell.quota}`,
      );
    }
    console.log(
      `  role ${DEMO_ORGANIZATION.roleName} in each, except ${(DEMO_ORGANIZATION.denyingAccounts ?? []).join(', ')}`,
    );
    console.log(
      `Report: npm run report -- --accounts ${accounts.join(',')} --regions ${regions.join(',')} --role ${DEMO_ORGANIZATION.roleName}`,
    );
  }
  console.log(
    `Controls: POST ${url}/_emulator/controls, GET ${url}/_emulator/stats, POST ${url}/_emulator/scheduler/<action>`,
  );

  const signal = await new Promise<string>((stopped) => {
    process.once('SIGINT', () => stopped('SIGINT'));
    process.once('SIGTERM', () => stopped('SIGTERM'));
  });
  console.log(`\n${signal}: stopping emulator`);
  await emulator.close();
  return ExitCode.ok;
}

// Compared as URLs: a path with a space (or any character a URL escapes) still matches.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runTool('emulator', main);
