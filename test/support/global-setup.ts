// Runs once before the suite: bundles the handlers and packages the stack offline, so template
// tests read the CloudFormation that `sls package` really generates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject) {
  // For quick local runs of tests that do not read the template: SKIP_PACKAGE=1 npx vitest run test/schedule
  if (process.env.SKIP_PACKAGE === '1') return;
  const packageDir = mkdtempSync(join(tmpdir(), 'schedule-hygiene-package-'));
  const env = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', SLS_TELEMETRY_DISABLED: '1' };
  execFileSync('npx', ['tsx', 'scripts/build.ts'], { stdio: 'pipe', env });
  execFileSync('npx', ['sls', 'package', '--package', packageDir], { stdio: 'pipe', env });
  project.provide('templatePath', join(packageDir, 'cloudformation-template-update-stack.json'));
}

declare module 'vitest' {
  export interface ProvidedContext {
    templatePath: string;
  }
}
