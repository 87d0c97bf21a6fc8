// Shared set-up of the transport tests (test/aws/departure.test.ts, undici-handler.test.ts): one
// finished schedule named 'target' seeded before each test, applied requests recorded, and the
// sweep's Scheduler client as production builds it (lean path, one attempt) with the sockets a test
// asks for, against the emulator or a stand-in service.
import { beforeEach } from 'vitest';
import { type ClientOptions, createSchedulerClient } from '../../src/aws/clients.ts';
import { oneTime } from '../sweep/fixtures.ts';
import type { useTestEmulator } from './emulator.ts';

export function useTransportFixtures(env: ReturnType<typeof useTestEmulator>) {
  beforeEach(() => {
    env.emulator.services.scheduler.reset();
    env.emulator.plane.faults.configure({ record: true });
    env.emulator.plane.faults.clearRecord();
    env.emulator.services.scheduler.seed([oneTime({ name: 'target', at: '2025-06-01T00:00:00' })]);
  });
  return {
    /** The production Scheduler client with `maxSockets` connections; `options` may point it elsewhere. */
    leanClient: (maxSockets: number, options: ClientOptions = {}) =>
      createSchedulerClient({
        ...env.clientOptions,
        maxAttempts: 1,
        leanRequestPath: true,
        maxSockets,
        ...options,
      }),
    /** The DeleteSchedule requests the emulator applied. */
    deletes: () =>
      env.emulator.plane.faults.applied().filter((entry) => entry.operation === 'DeleteSchedule'),
  };
}
