import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Test files run two at a time (each starts its own emulator on a free port): vitest's default is
    // one fewer than the cores, which is one worker on the 2-core machines this project runs on.
    maxWorkers: 2,
    // A worker keeps its modules from one test file to the next instead of importing the SDK, the
    // emulator and the code again for each test file: a third less time in all on a 2-core machine.
    // The price is a rule: a file that changes anything global (process.env, timers, a module's own
    // state, an object a library shares such as the SDK's schemas) restores it before it ends, or
    // changes a copy (vi.stubEnv with vi.unstubAllEnvs, as test/aws/clients.test.ts does). Each file
    // still starts its own emulator on a free port.
    isolate: false,
    // Generous: on a machine shared with another CPU-heavy job the heaviest files take several times
    // longer; a timing rule is tested with controlled clocks, never by this bound.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    env: {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // Lambda runs Node 22; the tests may run on Node 20, where the SDK would warn once per process
      // (scripts/node-support.ts).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
