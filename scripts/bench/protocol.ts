// The messages the bench and its emulator process exchange over Node's IPC channel, and the helper
// that starts that process and turns the channel into awaitable requests.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SynthesizeReport, SyntheticKindValue } from '../emulator/scheduler-synthesize.ts';

export type ChildRequest = { id: number } & (
  | { command: 'configure'; rateLimits: Record<string, number>; latencyMs: number }
  | {
      command: 'synthesize';
      count: number;
      seed: number;
      mix?: Partial<Record<SyntheticKindValue, number>>;
      graceMinutes: number;
    }
  | { command: 'stats' | 'resetStats' | 'now' | 'cpu' }
  | {
      command: 'verifyFirst' | 'verifySecond';
      /** Names the sweep logged as kept at departure (KEPT_AT_DEPARTURE), each a finished schedule it kept. */
      keptAtDeparture: string[];
    }
  | { command: 'advanceClock'; ms: number; graceMinutes: number }
);

export type ChildReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface PopulationReport {
  report: SynthesizeReport;
  seedSeconds: number;
  emulatorRssMiB: number;
}

export interface Verification {
  expectedDeletes: number;
  /** Names deleted through DeleteSchedule. */
  deleted: number;
  /** Deleted names outside the expected set. */
  unexpectedDeletes: number;
  unexpectedSample: string[];
  /** Expected schedules still present. */
  remainingExpected: number;
  /** Of those, the ones the sweep named as kept at departure. */
  keptAtDeparture: number;
  /** Second sweep: schedules that became finished while it ran, so deleting them was right but not required. */
  becameDueDuringSweep?: number;
}

export type OperationCounts = Record<string, { calls: number; throttled: number; injectedErrors: number }>;

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface EmulatorProcess {
  url: string;
  pid: number;
  request<T>(message: WithoutId<ChildRequest>): Promise<T>;
  close(): Promise<void>;
}

const CHILD_SCRIPT = fileURLToPath(new URL('./emulator-child.ts', import.meta.url));

/** Forks the emulator process (TypeScript through tsx) and waits for it to listen. */
export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const child: ChildProcess = fork(CHILD_SCRIPT, [], {
    // Room for ten million schedules; the bench process itself keeps the default heap.
    execArgv: ['--import', 'tsx', '--max-old-space-size=16384'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exited: Error | undefined;

  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`Emulator process exited with code ${code} before it listened`)),
    );
    child.once('message', (message: { ready?: boolean; url?: string }) => {
      if (message.ready && message.url) resolve(message.url);
      else
        reject(new Error(`Unexpected first message from the emulator process: ${JSON.stringify(message)}`));
    });
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  child.on('message', (reply: ChildReply) => {
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(new Error(`Emulator process: ${reply.error}`));
  });
  child.on('exit', (code, signal) => {
    exited = new Error(`Emulator process exited (code ${code}, signal ${signal})`);
    for (const pending of waiting.values()) pending.reject(exited);
    waiting.clear();
  });

  return {
    url,
    pid: child.pid ?? -1,
    request<T>(message: WithoutId<ChildRequest>): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...message, id });
      });
    },
    close(): Promise<void> {
      if (exited || child.exitCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.disconnect();
      });
    },
  };
}
