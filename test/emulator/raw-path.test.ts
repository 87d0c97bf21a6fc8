// The emulator routes a request's path as it was sent (scripts/emulator/core.ts, rawPath), not as a
// URL parser rewrites it: schedule and group names '.' and '..' are labels like any other, escaped
// dots are decoded as a label is, a dot segment elsewhere is not resolved, and an absolute-form
// request target falls back to the parsed path. Raw HTTP/1.1, so nothing between rewrites the target.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestEmulator } from '../support/emulator.ts';

const env = useTestEmulator();

/** Sends one request with `target` written as is; answers the status and the parsed JSON body. */
function raw(target: string, method = 'GET'): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(env.emulator.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `${method} ${target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    });
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
    });
    socket.on('end', () => {
      const status = Number(data.split(' ')[1]);
      const text = data.slice(data.indexOf('\r\n\r\n') + 4);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { text };
      }
      resolve({ status, body });
    });
    socket.on('error', reject);
  });
}

function seed() {
  const scheduler = env.emulator.services.scheduler;
  scheduler.reset();
  for (const group of ['.', '..']) scheduler.createGroup(group);
  const definition = (Name: string, GroupName = 'default') => ({
    Name,
    GroupName,
    ScheduleExpression: 'at(2030-01-01T00:00:00)',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    Target: {
      Arn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
      RoleArn: 'arn:aws:iam::123456789012:role/r',
    },
  });
  scheduler.seed([
    definition('.'),
    definition('..'),
    definition('a'),
    definition('b'),
    definition('.', '..'),
  ]);
}

describe('the emulator routes the path as sent', () => {
  it("names '.' and '..' by their label, escaped or not, with the group from the query", async () => {
    seed();
    for (const [target, name, group] of [
      ['/schedules/.', '.', 'default'],
      ['/schedules/..', '..', 'default'],
      ['/schedules/%2E%2E', '..', 'default'],
      ['/schedules/.%2e', '..', 'default'],
      ['/schedules/.?groupName=..', '.', '..'],
      ['/schedules/a#fragment', 'a', 'default'],
    ] as const) {
      const answer = await raw(target);
      expect({ target, status: answer.status, name: answer.body.Name, group: answer.body.GroupName }).toEqual(
        {
          target,
          status: 200,
          name,
          group,
        },
      );
    }
    expect((await raw('/schedule-groups/..')).body.Name).toBe('..');
  });

  it('resolves no dot segment elsewhere, so no request reaches a schedule its path does not end with', async () => {
    seed();
    for (const target of ['/schedules/a/../b', '/x/../schedules/a', '/./schedules/a', '/schedules/b/..']) {
      const answer = await raw(target);
      expect({ target, name: answer.body.Name }).toEqual({
        target,
        name: undefined,
      });
    }
    expect((await raw('/schedules/a/../b', 'DELETE')).status).not.toBe(200);
    expect(env.emulator.services.scheduler.has('default', 'b')).toBe(true);
  });

  it('reads an absolute-form target through the URL parser, as before', async () => {
    seed();
    const origin = new URL(env.emulator.url).origin;
    expect((await raw(`${origin}/schedules/a`)).body.Name).toBe('a');
    // The parser removes the dot segment: the path is /, which no operation answers.
    expect((await raw(`${origin}/schedules/..`)).body.Name).toBeUndefined();
    expect(env.emulator.services.scheduler.has('default', '..')).toBe(true);
  });
});
