// Runs cfn-guard with the AWS Control Tower proactive rules on CloudFormation templates, as an
// organization's scanner would, and fails on any finding not suppressed on its resource. Both the
// cfn-guard binary and the rules come from the npm package @cdklabs/cdk-validator-cfnguard.
//
// A deliberate finding is suppressed in the template, on the resource, with its reason next to it:
//   Metadata:
//     guard:
//       SuppressedRules: [lambda_inside_vpc_check]
//       Reasons:
//         lambda_inside_vpc_check: The functions call only AWS APIs ...
// (SuppressedRules is cfn-guard's own convention; a suppression without a reason is an error.)
//
//   npm run guard -- <template.json|yml>...
// Exit 0 when every finding is suppressed, 1 when one is not (each listed), 2 for bad usage.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../src/errors.ts';
import { runTool, UnknownArgumentError, usageErrorLine } from './cli.ts';

const PACKAGE_DIR = dirname(
  createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json'),
);

/** The Control Tower proactive rules the package ships, one .guard file per control. */
export const RULES_DIR = join(PACKAGE_DIR, 'rules/control-tower/cfn-guard');

/** The cfn-guard binary the package ships for this machine (Linux and macOS, x64 and arm64). */
export function guardBinary(platform: string = process.platform, arch: string = process.arch): string {
  const system = { linux: 'ubuntu', darwin: 'macos' }[platform];
  const machine = { x64: 'x86_64', arm64: 'aarch64' }[arch];
  if (!system || !machine) throw new Error(`No cfn-guard binary in the package for ${platform} ${arch}`);
  return join(PACKAGE_DIR, 'bin', system, machine, 'cfn-guard');
}

/** One rule a template fails, on the resources it fails on. */
export interface Finding {
  /** The rule's name in its .guard file (`lambda_inside_vpc_check`): what SuppressedRules lists. */
  rule: string;
  /** The Control Tower control (`CT.LAMBDA.PR.3`), when the rule's message names one. */
  control: string;
  /** The first line of the rule's message. */
  message: string;
  /** Logical ids of the failing resources ('' when the rule names no resource). */
  resources: string[];
}

interface GuardFileReport {
  name: string;
  status: string;
  not_compliant?: { Rule?: { name?: string } }[];
}

/** cfn-guard's structured JSON report (`validate -z -o json -S none`) as findings. */
export function findingsOf(report: readonly GuardFileReport[]): Finding[] {
  const findings: Finding[] = [];
  for (const file of report) {
    for (const entry of file.not_compliant ?? []) {
      const text = JSON.stringify(entry);
      const resources = [
        ...new Set([...text.matchAll(/"path":"\/Resources\/([^/"]+)/g)].map((match) => match[1] ?? '')),
      ];
      const labelled = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]: ([^\\]*)/.exec(text);
      findings.push({
        rule: entry.Rule?.name ?? '(unnamed rule)',
        control: labelled?.[1] ?? '',
        message: labelled?.[2]?.trim() ?? '',
        resources: resources.length > 0 ? resources : [''],
      });
    }
  }
  return findings;
}

/** Each resource's suppressed rules with their reasons, read from `Metadata.guard`. */
export function suppressionsOf(template: unknown): Map<string, Map<string, string>> {
  const resources =
    ((template ?? {}) as { Resources?: Record<string, { Metadata?: unknown }> }).Resources ?? {};
  const byResource = new Map<string, Map<string, string>>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    const guard = (
      resource.Metadata as { guard?: { SuppressedRules?: unknown; Reasons?: unknown } } | undefined
    )?.guard;
    if (guard?.SuppressedRules === undefined) continue;
    const rules = guard.SuppressedRules;
    const reasons = (guard.Reasons ?? {}) as Record<string, unknown>;
    if (!Array.isArray(rules) || !rules.every((rule) => typeof rule === 'string')) {
      throw new Error(`${logicalId}: Metadata.guard.SuppressedRules must be a list of rule names`);
    }
    const suppressed = new Map<string, string>();
    for (const rule of rules as string[]) {
      const reason = reasons[rule];
      if (typeof reason !== 'string' || reason.trim() === '') {
        throw new Error(`${logicalId}: suppresses ${rule} with no reason (Metadata.guard.Reasons.${rule})`);
      }
      suppressed.set(rule, reason);
    }
    byResource.set(logicalId, suppressed);
  }
  return byResource;
}

/** The verdict on one template: what fails, what is suppressed, and suppressions no finding used. */
export interface Verdict {
  failed: { finding: Finding; resource: string }[];
  suppressed: { finding: Finding; resource: string; reason: string }[];
  unused: { resource: string; rule: string }[];
}

export function judge(findings: readonly Finding[], suppressions: Map<string, Map<string, string>>): Verdict {
  const verdict: Verdict = { failed: [], suppressed: [], unused: [] };
  const used = new Set<string>();
  for (const finding of findings) {
    for (const resource of finding.resources) {
      const reason = suppressions.get(resource)?.get(finding.rule);
      if (reason === undefined) {
        verdict.failed.push({ finding, resource });
      } else {
        verdict.suppressed.push({ finding, resource, reason });
        used.add(`${resource}\n${finding.rule}`);
      }
    }
  }
  for (const [resource, rules] of suppressions) {
    for (const rule of rules.keys()) {
      if (!used.has(`${resource}\n${rule}`)) verdict.unused.push({ resource, rule });
    }
  }
  return verdict;
}

/** Runs cfn-guard on one template and judges its findings against the template's suppressions. */
export function guardTemplate(path: string): Verdict {
  const result = spawnSync(
    guardBinary(),
    [
      'validate',
      '--rules',
      RULES_DIR,
      '--data',
      path,
      '--structured',
      '--output-format',
      'json',
      '--show-summary',
      'none',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (result.error) throw result.error;
  // cfn-guard exits 0 when every rule passes or is skipped, 19 when one fails; anything else is its error.
  if (result.status !== 0 && result.status !== 19) {
    throw new Error(`cfn-guard failed on ${path} (exit ${result.status}): ${result.stderr.trim()}`);
  }
  const findings = findingsOf(JSON.parse(result.stdout) as GuardFileReport[]);
  const text = readFileSync(path, 'utf8');
  return judge(findings, suppressionsOf(path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)));
}

const usage = `Usage: npm run guard -- <template>...
Runs cfn-guard with the AWS Control Tower proactive rules on each CloudFormation template (JSON or
YAML). Exit 0 when every finding is suppressed on its resource (Metadata.guard.SuppressedRules, with
Metadata.guard.Reasons), 1 when one is not, 2 for bad usage.`;

export function runGuardCli(
  argv: readonly string[],
  out: (text: string) => void = (text) => process.stdout.write(text),
  err: (text: string) => void = (text) => process.stderr.write(text),
): number {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      out(`${usage}\n`);
      return 0;
    }
    const option = argv.find((argument) => argument.startsWith('-'));
    if (option !== undefined) throw new UnknownArgumentError(option, 'template paths only (or --help)');
    if (argv.length === 0) throw new InputError('template', 'one or more template paths');
    for (const path of argv)
      if (!existsSync(path)) throw new InputError('template', 'an existing file', path);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    err(`${usageErrorLine('guard', error)}\n`);
    return 2;
  }
  let failed = 0;
  for (const path of argv) {
    const verdict = guardTemplate(path);
    failed += verdict.failed.length;
    out(`${path}: ${verdict.failed.length} unsuppressed, ${verdict.suppressed.length} suppressed\n`);
    for (const { finding, resource } of verdict.failed) {
      out(
        `  FAIL ${finding.control || finding.rule} ${finding.rule} on ${resource || '(template)'}: ${finding.message}\n`,
      );
    }
    for (const { resource, rule } of verdict.unused) {
      out(`  note: ${resource} suppresses ${rule}, which it passes\n`);
    }
  }
  out(
    failed === 0 ? 'cfn-guard: no unsuppressed finding\n' : `cfn-guard: ${failed} unsuppressed finding(s)\n`,
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runTool('guard', async (argv) => runGuardCli(argv));
}
