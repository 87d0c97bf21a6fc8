// Runs the emulator as a standalone server for manual runs, the demo and benchmarks in another process:
//   npm run emulator -- --port 4566 [--host 127.0.0.1]
// and prints the environment that points the SDK (and `sls invoke local`) at it.
import { startEmulator } from './server.ts';

interface MainOptions {
  port: number;
  host: string;
  /** DynamoDB tables (hash key `pk`) to create at start: by default the dev stage's sweep state table. */
  tables: string[];
}

/** The state table `sls invoke local -f sweep` names for the default stage (resources/sweep.yml). */
export const DEFAULT_STATE_TABLE = 'schedule-hygiene-dev-state';

export function parseArguments(argv: readonly string[]): MainOptions {
  const options: MainOptions = { port: 4566, host: '127.0.0.1', tables: [DEFAULT_STATE_TABLE] };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    const [flag, inline] = argument.includes('=') ? argument.split('=', 2) : [argument, undefined];
    const value = () => {
      const next = inline ?? argv[index + 1];
      if (inline === undefined) index += 1;
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--port') {
      const port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65_535) {
        throw new Error(`Expected --port to be a whole number from 0 to 65535, got '${argv[index]}'`);
      }
      options.port = port;
    } else if (flag === '--host') {
      options.host = value();
    } else if (flag === '--table') {
      options.tables.push(value());
    } else if (flag === '--help' || flag === '-h') {
      console.log('Usage: npm run emulator -- [--port 4566] [--host 127.0.0.1] [--table <state table>]...');
      process.exit(0);
    } else {
      throw new Error(
        `Unknown argument '${argument}'; expected --port <n>, --host <address> or --table <name>`,
      );
    }
  }
  return options;
}

export function environmentLines(url: string): string[] {
  return [
    `AWS_ENDPOINT_URL_SCHEDULER=${url}`,
    `AWS_ENDPOINT_URL_CLOUDWATCH=${url}`,
    `AWS_ENDPOINT_URL_SERVICE_QUOTAS=${url}`,
    `AWS_ENDPOINT_URL_LAMBDA=${url}`,
    `AWS_ENDPOINT_URL_DYNAMODB=${url}`,
    'AWS_ACCESS_KEY_ID=test',
    'AWS_SECRET_ACCESS_KEY=test',
    'AWS_REGION=us-east-1',
    'AWS_EC2_METADATA_DISABLED=true',
  ];
}

async function main(): Promise<void> {
  let options: MainOptions;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const emulator = await startEmulator({ port: options.port, host: options.host });
  for (const table of options.tables) emulator.services.dynamodb.createTable(table, { hash: 'pk' });
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${emulator.port}`;
  console.log(`Emulator listening on ${url}`);
  console.log(`DynamoDB tables: ${options.tables.join(', ')}`);
  console.log('Point the AWS SDK at it with:');
  for (const line of environmentLines(url)) console.log(`  export ${line}`);
  console.log(
    `Controls: POST ${url}/_emulator/controls, GET ${url}/_emulator/stats, POST ${url}/_emulator/scheduler/<action>`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping emulator`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
