// Runs once before the suite: packages the stack offline with `sls package`, which bundles each
// function from src/ (serverless-esbuild), so template tests read the CloudFormation that a deploy
// really ships. It works on a private copy of the service (serverless.yml, resources/, src/, package.json,
// with node_modules linked), so it never races a developer's own `sls package` in the clone.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

/** What `sls package` reads, plus scripts/ for the documented `npm run` lines against the copy. */
export const SERVICE_FILES = [
  'serverless.yml',
  'resources',
  'src',
  'scripts',
  'package.json',
  'tsconfig.json',
];

/** Copies the service into a fresh temporary directory (node_modules linked) and returns its path. */
export function copyService(root: string): string {
  const serviceDir = mkdtempSync(join(tmpdir(), 'schedule-hygiene-service-'));
  for (const name of SERVICE_FILES) cpSync(join(root, name), join(serviceDir, name), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(serviceDir, 'node_modules'), 'dir');
  return serviceDir;
}

/** The environment every offline `sls` run in the tests uses. */
export function slsEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

export default function setup(project: TestProject) {
  // For quick local runs of tests that do not read the template: SKIP_PACKAGE=1 npx vitest run test/schedule
  if (process.env.SKIP_PACKAGE === '1') return;
  const root = resolve('.');
  const serviceDir = copyService(root);
  const packageDir = join(serviceDir, '.package');
  execFileSync(join(root, 'node_modules/.bin/sls'), ['package', '--package', packageDir], {
    stdio: 'pipe',
    env: slsEnv(),
    cwd: serviceDir,
  });
  project.provide('templatePath', join(packageDir, 'cloudformation-template-update-stack.json'));
  project.provide('packageDir', packageDir);
  project.provide('serviceDir', serviceDir);
}

declare module 'vitest' {
  export interface ProvidedContext {
    templatePath: string;
    /** Where `sls package` wrote the template and one zip per function. */
    packageDir: string;
    /** A copy of the service (serverless.yml, resources/, src/) for `sls invoke local`. */
    serviceDir: string;
  }
}
