// Departure checks through the production Scheduler client (lean request path, one socket per item
// in flight) against the emulator: the check runs when the request leaves, not when it was queued,
// and a request it refuses never reaches the service.
import { DeleteScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { DepartureRefused, sendWithDepartureCheck } from '../../src/aws/departure.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { useTransportFixtures } from '../support/transport.ts';

const env = useTestEmulator();
const { leanClient, deletes } = useTransportFixtures(env);

describe('departure checks', () => {
  it('run when a queued delete gets its socket, after the slow request ahead of it, not when it was sent', async () => {
    // Prepare: one socket, held by a ListSchedules page that takes 600 ms
    env.emulator.plane.faults.configure({
      record: true,
      rules: [{ kind: 'latency', service: 'scheduler', operation: 'ListSchedules', delayMs: 600, times: 1 }],
    });
    const client = leanClient(1);
    const slowPage = client.send(new ListSchedulesCommand({}));
    // Until the page holds the socket: the emulator has it in flight (not a fixed wait a loaded machine outlasts).
    while (env.emulator.plane.inFlight < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    const sentAt = performance.now();
    let checkedAt = 0;

    // Act
    await sendWithDepartureCheck(
      'token-1',
      () => {
        checkedAt = performance.now();
        return undefined;
      },
      () => client.send(new DeleteScheduleCommand({ Name: 'target', ClientToken: 'token-1' })),
    );
    await slowPage;

    // Assess: the check waited for the socket (≥ 500 ms of the page's 600 ms were left)
    expect(checkedAt - sentAt).toBeGreaterThanOrEqual(500);
    expect(deletes()).toHaveLength(1);
  });

  it('refuse a request that never leaves: the service sees no delete, and the socket serves the next request', async () => {
    const client = leanClient(1);

    const refused = sendWithDepartureCheck(
      'token-2',
      () => 'definition read too long ago',
      () => client.send(new DeleteScheduleCommand({ Name: 'target', ClientToken: 'token-2' })),
    );

    await expect(refused).rejects.toBeInstanceOf(DepartureRefused);
    await expect(refused).rejects.toMatchObject({ notSent: true, reason: 'definition read too long ago' });
    expect(deletes()).toHaveLength(0);
    expect(env.emulator.services.scheduler.has('default', 'target')).toBe(true);
    // The pool's one connection was kept: the next request goes through on it.
    await client.send(new DeleteScheduleCommand({ Name: 'target' }));
    expect(deletes()).toHaveLength(1);
  });

  it('apply only to the request carrying their client token: other requests on the same client are not checked', async () => {
    const client = leanClient(2);
    let checks = 0;

    await Promise.all([
      sendWithDepartureCheck(
        'token-3',
        () => {
          checks += 1;
          return undefined;
        },
        () => client.send(new DeleteScheduleCommand({ Name: 'target', ClientToken: 'token-3' })),
      ),
      client.send(new ListSchedulesCommand({})),
    ]);

    expect(checks).toBe(1);
  });
});
