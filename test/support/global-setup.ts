// Runs once before the suite: bundles the handlers and packages the stack offline, so template
// tests read the CloudFormation that `sls package` really generates. It works on a private copy of
// the service (serverless.yml, resources/, a fresh dist/), so it never races a developer's build.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject) {
  // For quick local runs of tests that do not read the template: SKIP_PACKAGE=1 npx vitest run test/schedule
  if (process.env.SKIP_PACKAGE === '1') return;
  const root = resolve('.');
  const serviceDir = mkdtempSync(join(tmpdir(), 'schedule-hygiene-service-'));
  cpSync(join(root, 'serverless.yml'), join(serviceDir, 'serverless.yml'));
  cpSync(join(root, 'resources'), join(serviceDir, 'resources'), { recursive: true });
  const packageDir = join(serviceDir, '.package');
  const env = {
    ...process.env,
    AWS_EC2_METADATA_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    BUILD_OUT_DIR: join(serviceDir, 'dist'),
  };
  execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/build.ts')], { stdio: 'pipe', env });
  execFileSync(join(root, 'node_modules/.bin/sls'), ['package', '--package', packageDir], {
    stdio: 'pipe',
    env,
    cwd: serviceDir,
  });
  project.provide('templatePath', join(packageDir, 'cloudformation-template-update-stack.json'));
  project.provide('serviceDir', serviceDir);
}

declare module 'vitest' {
  export interface ProvidedContext {
    templatePath: string;
    /** A built copy of the service (serverless.yml, resources/, dist/) for `sls invoke local`. */
    serviceDir: string;
  }
}
