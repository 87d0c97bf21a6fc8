// Plays Lambda killing an invocation (out of memory, a crash, its timeout): once the switch trips,
// nothing more of the invocation reaches the world and none of its requests answers. Requests
// already sent still reach the emulator and take effect, as they would on AWS.

export interface KillSwitch {
  killed: boolean;
  /** Called before each request with its operation name (e.g. 'DeleteSchedule'); may trip the switch. */
  onSend?: (operation: string, input: Record<string, unknown>) => void;
  /** Set by onSend: the request goes out, then the switch trips (its answer never comes back). */
  tripAfterSend?: boolean;
}

/** `client` behind `kill`: after it trips, every send (and every answer still to come) hangs forever. */
export function behindKillSwitch<T extends { send: (...args: never[]) => Promise<unknown> }>(
  client: T,
  kill: KillSwitch,
): T {
  const never = () => new Promise<never>(() => undefined);
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (...args: never[]) => {
        if (kill.killed) return never();
        const command = args[0] as unknown as {
          constructor: { name: string };
          input?: Record<string, unknown>;
        };
        kill.onSend?.(command.constructor.name.replace(/Command$/, ''), command.input ?? {});
        if (kill.killed) return never();
        const sent = target.send(...args);
        if (kill.tripAfterSend) kill.killed = true;
        return sent.then(
          (value) => (kill.killed ? never() : value),
          (error: unknown) => (kill.killed ? never() : Promise.reject(error)),
        );
      };
    },
  });
}
