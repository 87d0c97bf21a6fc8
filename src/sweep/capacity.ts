// How many Scheduler requests a second the sweeper's one Node thread can send on a Lambda of a given
// memory size, and whether its budgets fit. Lambda allocates CPU in proportion to memory: 1,769 MB is
// one full vCPU (AWS Lambda developer guide, "Configure Lambda function memory"); more memory adds
// vCPUs, which one JavaScript thread cannot use, so a single thread never gets more than one.

/** Memory (MB) at which a Lambda function has the equivalent of one full vCPU. */
export const LAMBDA_MB_PER_VCPU = 1_769;

/**
 * CPU time one Scheduler request costs the sweeper (ms), measured by `npm run bench` (its
 * `cpuMsPerRequest`: all of the sweeper's CPU, its tombstone and memory writes to DynamoDB included,
 * over the Scheduler requests) with the lean request path: 0.43-0.47 ms on a quiet machine at 20k,
 * 50k and 100k schedules, rounded up with headroom for Lambda's cores and for logging. See the
 * docs/scale.md for the measurement. Later, the same 20k command on one commit measured 0.37-0.59 ms
 * within an hour on this machine (docs/scale.md, "Warm-up, pacing and the machine's pace"): the
 * upper end is inside the 50% headroom memoryNeededMb adds.
 */
export const SWEEP_CPU_MS_PER_REQUEST = 0.5;

/** The share of one vCPU a single thread gets at this memory size (0..1]. */
export function vcpuShare(memoryMb: number): number {
  return Math.min(1, memoryMb / LAMBDA_MB_PER_VCPU);
}

/** Requests per second one thread sustains at this memory size and cost per request. */
export function sustainableRequestsPerSecond(
  memoryMb: number,
  cpuMsPerRequest = SWEEP_CPU_MS_PER_REQUEST,
): number {
  return (vcpuShare(memoryMb) * 1000) / cpuMsPerRequest;
}

/**
 * The most requests per second the budgets can ask for at once: every lookup at its budget, every
 * one of them a delete (an account where everything is finished), plus listing.
 */
export function peakRequestRate(budgets: { list: number; get: number; delete: number }): number {
  return budgets.list + budgets.get + Math.min(budgets.delete, budgets.get);
}

/** The memory (MB) whose CPU share sustains the budgets' peak rate with `headroom` to spare (e.g. 0.5 = 50%). */
export function memoryNeededMb(
  budgets: { list: number; get: number; delete: number },
  headroom = 0.5,
  cpuMsPerRequest = SWEEP_CPU_MS_PER_REQUEST,
): number {
  const vcpus = (peakRequestRate(budgets) * (1 + headroom) * cpuMsPerRequest) / 1000;
  return Math.ceil(vcpus * LAMBDA_MB_PER_VCPU);
}

export interface CapacityShortfall {
  memoryMb: number;
  /** The most requests per second the budgets ask for (peakRequestRate). */
  peakRequestsPerSecond: number;
  /** What this memory size's CPU share sustains at SWEEP_CPU_MS_PER_REQUEST. */
  sustainableRequestsPerSecond: number;
  /** Memory that would sustain the budgets with 50% headroom (capped at one vCPU's worth). */
  neededMemoryMb: number;
}

/**
 * Whether budgets ask for more requests per second than a Lambda of `memoryMb` can send on one
 * thread. Undefined when they fit, or when the memory size is unknown (not on Lambda).
 */
export function capacityShortfall(
  budgets: { list: number; get: number; delete: number },
  memoryMb: number | undefined,
): CapacityShortfall | undefined {
  if (memoryMb === undefined || !(memoryMb > 0)) return undefined;
  const peak = peakRequestRate(budgets);
  const sustainable = sustainableRequestsPerSecond(memoryMb);
  if (peak <= sustainable) return undefined;
  return {
    memoryMb,
    peakRequestsPerSecond: peak,
    sustainableRequestsPerSecond: Math.floor(sustainable),
    neededMemoryMb: Math.min(LAMBDA_MB_PER_VCPU, memoryNeededMb(budgets)),
  };
}

/** Lambda's configured memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, MB), or undefined off Lambda. */
export function lambdaMemoryMb(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}
