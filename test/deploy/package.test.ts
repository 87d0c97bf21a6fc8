// What `sls package` ships: one minified bundle per function with its source map, built from src/ by
// the packaging plugin on every run (so a source change is never left out), no reserved concurrency
// unless the reservedConcurrency parameter asks for it, ARNs in the stack's partition, and a
// template that cfn-lint passes.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { copyService, slsEnv } from '../support/global-setup.ts';
import { loadTemplate, resourcesOfType } from '../support/template.ts';

const FUNCTIONS = ['sweep', 'census', 'create', 'target'] as const;

function zipEntry(zip: string, entry: string): string {
  return execFileSync('unzip', ['-p', zip, entry], { maxBuffer: 64 * 1024 * 1024 }).toString('utf8');
}

function zipEntries(zip: string): string[] {
  return execFileSync('unzip', ['-Z1', zip]).toString('utf8').trim().split('\n');
}

const copies: string[] = [];
afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

describe('the packaged functions', () => {
  it.each(FUNCTIONS)('%s ships one minified CommonJS bundle and its source map, nothing else', (name) => {
    // Act
    const zip = join(inject('packageDir'), `${name}.zip`);
    const bundle = zipEntry(zip, `src/handlers/${name}.cjs`);

    // Assess
    expect(zipEntries(zip).sort()).toEqual([`src/handlers/${name}.cjs`, `src/handlers/${name}.cjs.map`]);
    // Minified: lines average well over 150 characters (unminified code averages about 40; the only
    // line breaks left are inside template literals). Linked: the comment that lets
    // --enable-source-maps find the map. Booleans and numbers, so a failure does not print a bundle.
    expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(150);
    expect(bundle.trimEnd().endsWith(`//# sourceMappingURL=${name}.cjs.map`), 'source map comment').toBe(
      true,
    );
    expect(loadTemplate().Resources[`${capitalized(name)}LambdaFunction`]?.Properties).toMatchObject({
      Handler: `src/handlers/${name}.handler`,
      Runtime: 'nodejs22.x',
    });
  });

  it('runs every function with source maps enabled, so stack traces name src/ lines', () => {
    for (const [, fn] of resourcesOfType(loadTemplate(), 'AWS::Lambda::Function')) {
      const environment = fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
      const variables = environment?.Variables ?? {};
      expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });

  it('reserves no concurrency by default: single-flight is the lease, not a reservation', () => {
    const functions = resourcesOfType(loadTemplate(), 'AWS::Lambda::Function');

    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const [, fn] of functions) expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('builds ARNs in the IAM resources with the partition, never a literal arn:aws:', () => {
    const iam = resourcesOfType(loadTemplate(), 'AWS::IAM::Role');

    expect(iam.length).toBeGreaterThanOrEqual(5);
    for (const [logicalId, role] of iam) {
      expect(JSON.stringify(role.Properties), logicalId).not.toContain('arn:aws:');
    }
  });
});

describe('sls package on a copy of the service', () => {
  it('bundles a source change, and reserves concurrency only when the parameter asks', () => {
    // Prepare: a fresh copy (no earlier build in it) with a changed log message in the target.
    const service = copyService(resolve('.'));
    copies.push(service);
    const marker = `source-change-${Date.now()}`;
    appendFileSync(join(service, 'src/handlers/target.ts'), `\nconsole.log('${marker}');\n`);

    // Act
    execFileSync(
      resolve('node_modules/.bin/sls'),
      ['package', '--package', '.package', '--param=reservedConcurrency=1'],
      { cwd: service, env: slsEnv(), stdio: 'pipe' },
    );

    // Assess
    const bundle = zipEntry(join(service, '.package/target.zip'), 'src/handlers/target.cjs');
    expect(bundle.includes(marker), 'the changed source in the bundle').toBe(true);
    const template = JSON.parse(
      readFileSync(join(service, '.package/cloudformation-template-update-stack.json'), 'utf8'),
    ) as { Resources: Record<string, { Properties: Record<string, unknown> }> };
    expect(template.Resources.SweepLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(template.Resources.CensusLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(template.Resources.CreateLambdaFunction?.Properties).not.toHaveProperty(
      'ReservedConcurrentExecutions',
    );
  }, 120_000);
});

// cfn-lint is a Python tool: present on the development machines and in CI (.ci/run runs it too).
const cfnLint = spawnSync('cfn-lint', ['--version']).status === 0;

describe.runIf(cfnLint)('cfn-lint', () => {
  it('finds no error in the packaged template', () => {
    // cfn-lint exits with a bit mask: 2 = errors, 4 = warnings, 8 = informational.
    const result = spawnSync('cfn-lint', [inject('templatePath')], { encoding: 'utf8' });

    expect(result.status ?? 0, result.stdout).not.toBe(1);
    expect((result.status ?? 0) & 2, result.stdout).toBe(0);
  });
});

function capitalized(name: string): string {
  return `${name[0]?.toUpperCase()}${name.slice(1)}`;
}
