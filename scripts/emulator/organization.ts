// Seeds a simulated organization into the emulator: several accounts × Regions, each with its own
// deterministic schedule population and applied quota, and a report role in each account that the
// caller may assume (or none, in accounts that deny it). Used by `npm run emulator -- --organization`
// and by the report's tests, which check every cell against what this returns.
import type { SynthesizeReport, SynthesizeSpec } from './scheduler-synthesize.ts';
import { scheduleCountQuotaName } from './service-quotas.ts';
import type { ServiceRegistry } from './services.ts';

export interface OrganizationCellSpec {
  accountId: string;
  region: string;
  population: SynthesizeSpec;
  /** The applied "Number of schedules" quota in Service Quotas; unset: the emulator's initial value. */
  appliedQuota?: number;
}

export interface OrganizationSpec {
  /** The report role created in every account named in `cells`, except those in `denyingAccounts`. */
  roleName: string;
  cells: readonly OrganizationCellSpec[];
  /** Accounts without the role: AssumeRole there answers AccessDenied. */
  denyingAccounts?: readonly string[];
}

export interface SeededCell {
  accountId: string;
  region: string;
  population: SynthesizeReport;
  quota: number;
}

export function seedOrganization(services: ServiceRegistry, spec: OrganizationSpec): SeededCell[] {
  const denying = new Set(spec.denyingAccounts ?? []);
  const accounts = new Set(spec.cells.map((cell) => cell.accountId));
  for (const accountId of accounts) {
    if (!denying.has(accountId)) services.sts.createRole(accountId, spec.roleName);
  }
  return spec.cells.map((cell) => {
    const scope = services.scope(cell.accountId, cell.region);
    if (cell.appliedQuota !== undefined) {
      scope.serviceQuotas.setApplied(scheduleCountQuotaName, cell.appliedQuota);
      scope.scheduler.setScheduleQuota(cell.appliedQuota);
    }
    const population = scope.scheduler.synthesize(cell.population);
    return {
      accountId: cell.accountId,
      region: cell.region,
      population,
      quota: cell.appliedQuota ?? scope.scheduler.scheduleQuota(),
    };
  });
}

/** The role name the demo organization's accounts hold (docs/organization.md: Report across accounts and Regions). */
export const DEMO_REPORT_ROLE = 'ScheduleHygieneReport';

/**
 * Three accounts × two Regions with different populations and quotas, and a fourth account that has
 * no report role.
 */
export const DEMO_ORGANIZATION: OrganizationSpec = {
  roleName: DEMO_REPORT_ROLE,
  denyingAccounts: ['444444444444'],
  cells: [
    {
      accountId: '111111111111',
      region: 'us-east-1',
      population: { count: 900, seed: 11 },
      appliedQuota: 1000,
    },
    { accountId: '111111111111', region: 'eu-west-1', population: { count: 150, seed: 12 } },
    {
      accountId: '222222222222',
      region: 'us-east-1',
      population: { count: 400, seed: 21, mix: { finishedNone: 0, dstGap: 0, disabledPast: 0 } },
      appliedQuota: 2000,
    },
    {
      accountId: '222222222222',
      region: 'eu-west-1',
      population: { count: 60, seed: 22 },
      appliedQuota: 100,
    },
    { accountId: '333333333333', region: 'us-east-1', population: { count: 0, seed: 31 } },
    {
      accountId: '333333333333',
      region: 'eu-west-1',
      population: { count: 300, seed: 32, groups: ['default', 'orders', 'reminders'] },
      appliedQuota: 50_000,
    },
    { accountId: '444444444444', region: 'us-east-1', population: { count: 10, seed: 41 } },
  ],
};
