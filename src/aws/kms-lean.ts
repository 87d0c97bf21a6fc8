// The lean request path (lean.ts) for GenerateMac: the MAC that certifies the tombstone store's
// signing key, about one per sweep invocation (src/tombstone/origin.ts). Answers are read by the SDK's own deserializer (the MAC
// is binary), and failed attempts are retried by the client's own SDK retry strategy.
import { GenerateMac$, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { LeanRequestPath } from './lean.ts';

/** A KMSClient whose GenerateMac skips the middleware stack; every other command takes `send`. */
export class LeanKMSClient extends KMSClient {
  private readonly leanPath = new LeanRequestPath(
    this,
    [{ schema: GenerateMac$, command: GenerateMacCommand }],
    'client strategy',
  );

  // biome-ignore lint/suspicious/noExplicitAny: overrides every overload of Client.send at once.
  override send(command: any, optionsOrCallback?: any, callback?: any): any {
    return this.leanPath.route(command, optionsOrCallback, callback, () =>
      super.send(command, optionsOrCallback, callback),
    );
  }
}
