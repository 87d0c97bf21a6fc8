// A restore of 50,000 names into one group: restore --keep's protection phase writes them all through
// the real SDK against the emulator, and the sweep's own protection reader sees every one of them.

import type { ScheduleSummary } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import {
  createProtection,
  type ProtectionCheck,
  type ProtectionVerdict,
} from '../../src/protect/protection.ts';
import { type PlanEntry, protectPlanned, type RestoreProgress } from '../../src/tombstone/restore.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';

const env = useTestEmulator();
const STATE_TABLE = 'schedule-hygiene-test-restore-scale-state';
const GROUP = 'billing';
const NAMES = 50_000;

/** 30 characters, as in a large account's generated names. */
const nameOf = (index: number) => `order-reminder-${String(index).padStart(15, '0')}`;

describe('restore --keep at scale', () => {
  it('protects 50,000 names of 30 characters in one group, and the sweep sees each as protected', async () => {
    // Prepare
    await env.emulator.services.dynamodb.createTable(STATE_TABLE, { hash: 'pk' });
    env.emulator.services.scheduler.createGroup(GROUP);
    const entries = new Map<string, PlanEntry>();
    for (let index = 0; index < NAMES; index++) {
      const name = nameOf(index);
      entries.set(`g#${GROUP}#0|${name}#2026-11-30T10:00:00.000Z`, {
        group: GROUP,
        name,
        sha256: '0'.repeat(64),
        outcome: 'deleted',
        action: 'wouldRestore',
        create: { expression: 'at(2026-11-30T09:00:00)', zone: 'UTC' },
        protect: true,
      });
    }
    const progress: RestoreProgress[] = [];

    // Act
    const count = await protectPlanned(
      { dynamodb: env.dynamodb, stateTable: STATE_TABLE },
      { entries },
      (event) => progress.push(event),
    );

    // Assess
    expect(count).toBe(NAMES);
    expect(progress).toHaveLength(NAMES / 1000);
    expect(progress.at(-1)).toEqual({ phase: 'protected', group: GROUP, done: NAMES, total: NAMES });
    // At the delete gate (`confirm`, which reads the name's own item) where the reader has one.
    const protection: ProtectionCheck & {
      confirm?: (summary: ScheduleSummary) => Promise<{ verdict: ProtectionVerdict }>;
    } = createProtection({
      scheduler: env.scheduler,
      prefixes: [],
      state: { dynamodb: env.dynamodb, tableName: STATE_TABLE },
      log: createMemoryLogger(),
    });
    const check = async (name: string) => {
      const summary = {
        Name: name,
        GroupName: GROUP,
        Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/${GROUP}/${name}`,
      };
      const verdict = protection.confirm
        ? (await protection.confirm(summary)).verdict
        : await protection.check(summary);
      return verdict?.kind;
    };
    for (const index of [0, 1, 13_199, 13_200, 25_000, NAMES - 1]) {
      expect(await check(nameOf(index))).toBe('protected');
    }
    expect(await check(nameOf(NAMES))).toBeUndefined();
  }, 300_000);
});
