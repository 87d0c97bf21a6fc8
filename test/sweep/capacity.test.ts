// What a Lambda memory size buys the sweeper in requests per second, and what its budgets need.
import { describe, expect, it } from 'vitest';
import {
  capacityShortfall,
  LAMBDA_MB_PER_VCPU,
  lambdaMemoryMb,
  memoryNeededMb,
  peakRequestRate,
  SWEEP_CPU_MS_PER_REQUEST,
  sustainableRequestsPerSecond,
  vcpuShare,
} from '../../src/sweep/capacity.ts';

describe('sweep capacity', () => {
  it('gives one thread a CPU share proportional to memory, at most one vCPU', () => {
    expect(vcpuShare(LAMBDA_MB_PER_VCPU / 2)).toBeCloseTo(0.5, 6);
    expect(vcpuShare(LAMBDA_MB_PER_VCPU)).toBe(1);
    expect(vcpuShare(10_240)).toBe(1);
    expect(sustainableRequestsPerSecond(LAMBDA_MB_PER_VCPU, 0.5)).toBe(2000);
  });

  it('counts every lookup, a delete for each, and listing as the budgets’ peak', () => {
    expect(peakRequestRate({ list: 10, get: 100, delete: 100 })).toBe(210);
    // Deletes can never outrun the lookups that find them.
    expect(peakRequestRate({ list: 50, get: 200, delete: 1000 })).toBe(450);
  });

  it('sizes memory for the peak with headroom, and names the shortfall of a smaller size', () => {
    const budgets = { list: 50, get: 400, delete: 400 };
    const needed = memoryNeededMb(budgets);
    expect(sustainableRequestsPerSecond(needed)).toBeGreaterThanOrEqual(1.5 * 850 - 1);
    expect(capacityShortfall(budgets, needed)).toBeUndefined();
    expect(capacityShortfall(budgets, 512)).toEqual({
      memoryMb: 512,
      peakRequestsPerSecond: 850,
      sustainableRequestsPerSecond: Math.floor(
        (512 / LAMBDA_MB_PER_VCPU) * (1000 / SWEEP_CPU_MS_PER_REQUEST),
      ),
      neededMemoryMb: Math.min(LAMBDA_MB_PER_VCPU, needed),
    });
    expect(capacityShortfall(budgets, undefined)).toBeUndefined();
  });

  it('carries the documented backlog budgets on one vCPU, and says quota speed everywhere is past one thread', () => {
    // serverless.yml and docs/scale.md: 1,769 MB with 50 list + 950 get + 950 delete.
    expect(capacityShortfall({ list: 50, get: 950, delete: 950 }, 1769)).toBeUndefined();
    expect(capacityShortfall({ list: 50, get: 1000, delete: 1000 }, 1769)).toMatchObject({
      peakRequestsPerSecond: 2050,
      neededMemoryMb: LAMBDA_MB_PER_VCPU,
    });
  });

  it('reads the memory size Lambda sets, and nothing else', () => {
    expect(lambdaMemoryMb({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769' })).toBe(1769);
    expect(lambdaMemoryMb({})).toBeUndefined();
    expect(lambdaMemoryMb({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'big' })).toBeUndefined();
  });
});
