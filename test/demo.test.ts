// The README's first command must stay true: the demo runs the real handlers on the embedded
// emulator, exits 0 only when the sweep deleted exactly the finished schedules, and explains every
// number it prints. It runs once here, from a shell that still points the SDK elsewhere.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { humanDuration } from '../scripts/human.ts';
import { DEPARTURES_BEFORE_KEEPING, REFRESH_ROUNDS } from '../src/sweep/gate.ts';

const run = promisify(execFile);

/** serverless.yml's deployed defaults of the sweep's request rates. */
const deployed = (
  parseYaml(readFileSync('serverless.yml', 'utf8')) as { params: { default: Record<string, string> } }
).params.default;

let stdout: string;

beforeAll(async () => {
  // Prepare: a shell left as the README's emulator section leaves it, pointing at nothing that answers,
  // with a profile that does not exist.
  const ambient = {
    AWS_ENDPOINT_URL_SCHEDULER: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
    AWS_PROFILE: 'no-such-profile',
  };
  // Act
  ({ stdout } = await run('node_modules/.bin/tsx', ['scripts/demo.ts', '--schedules', '600'], {
    env: { ...process.env, ...ambient },
    timeout: 120_000,
  }));
}, 150_000);

type DemoSweep = {
  scanned: number;
  finished: number;
  deleted: number;
  skipped: Record<string, number>;
  pending: number;
  recurring: number;
  requests: { GetSchedule: number; DeleteSchedule: number; rereads: number };
};

/** The summaries the demo prints, in order: the dry run (step 3), the real sweep (4), the next (5). */
function sweepSummaries(): DemoSweep[] {
  return [...stdout.matchAll(/^\{"status":"finished".*$/gm)].map(
    (match) => JSON.parse(match[0]) as DemoSweep,
  );
}

/** The lines of one numbered step. */
function step(number: number): string {
  const start = stdout.indexOf(`=== ${number}. `);
  const end = stdout.indexOf('\n=== ', start + 1);
  return stdout.slice(start, end === -1 ? undefined : end);
}

describe('npm run demo', () => {
  it('sweeps a small synthetic account to exactly the expected result and exits 0', () => {
    // Every finished schedule deleted by the real sweep (step 4), or, on a machine too busy to send a
    // delete within its re-read window, named as kept at departure there and deleted by the next.
    const [, real, next] = sweepSummaries();
    const keptByReal = Number(
      /the other ([\d,]+) (?:was|were) kept at departure/.exec(step(4))?.[1]?.replaceAll(',', '') ?? 0,
    );
    const expected = Number(
      /A correct sweeper deletes ([\d,]+) of them/.exec(stdout)?.[1]?.replaceAll(',', ''),
    );
    expect(real!.deleted + keptByReal).toBe(expected);
    expect(step(4)).toMatch(
      keptByReal === 0
        ? /Deleted exactly the [\d,]+ finished schedules; kept everything else\./
        : /Deleted [\d,]+ of the [\d,]+ finished schedules and nothing else; the other [\d,]+ (was|were) kept at departure/,
    );
    if (keptByReal > 0) expect(step(5)).toMatch(/After this sweep: (Deleted exactly|Deleted [\d,]+ of)/);
    expect(stdout).not.toContain('MISMATCH');
    expect(stdout).toMatch(
      /schedules in hygiene-demo now: 3\n[^\n]*\n[^\n]*schedules in hygiene-demo now: 0/,
    );
    // The second sweep answers every unchanged, not-yet-due schedule from memory: it looks up only
    // what the first kept at departure (never remembered), and reads again only before its deletes.
    expect(stdout).toContain(
      `GetSchedule calls: ${(keptByReal + next!.requests.rereads).toLocaleString('en-US')} (the first sweep made `,
    );

    // Reads correctly: the census divides by the AWS default quota, the metrics show the deletions
    // of the real sweep (points of the real sweep and the next sweep, in that order: a dry run
    // publishes nothing), and no number carries float noise.
    expect(stdout).toContain('schedules: 600 of a quota of 10,000,000 (applied) = 0.006%');
    expect(stdout).toMatch(new RegExp(`SchedulesDeleted\\s+${real!.deleted}, ${next!.deleted}\\s*\n`));
    expect(stdout).not.toMatch(/\d\.\d{4,}/);

    // The README's numbered steps are the demo's.
    const steps = [...stdout.matchAll(/^=== (\d)\. /gm)].map((match) => Number(match[1]));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const readme = readFileSync('README.md', 'utf8');
    const list = readme.slice(
      readme.indexOf('The demo starts the local emulator'),
      readme.indexOf('It exits non-zero'),
    );
    expect([...list.matchAll(/^(\d)\. /gm)].map((match) => Number(match[1]))).toEqual(steps);
  });

  it('talks only to its own emulator whatever AWS_ENDPOINT_URL_* and AWS_PROFILE the shell holds, and says so', () => {
    expect(stdout).toMatch(
      /^Every AWS client talks to the embedded emulator at http:\/\/127\.0\.0\.1:\d+ \(ignored from your shell: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SCHEDULER, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, AWS_PROFILE\)$/m,
    );
  });

  it("splits GetSchedule into lookups and the sweep's own count of re-reads before deletes, for every sweep", () => {
    const explained = [
      ...stdout.matchAll(
        /^GetSchedule ([\d,]+) = ([\d,]+) lookups \(scanned ([\d,]+) - ([\d,]+) answered from memory - ([\d,]+) protected\) \+ ([\d,]+) re-reads before deletes \(requests\.rereads\)(?: \+ ([\d,]+) retries)?/gm,
      ),
    ];
    expect(explained).toHaveLength(3);
    const summaries = sweepSummaries();
    explained.forEach((match, index) => {
      const [getSchedule, lookups, scanned, recalled, isProtected, rereads, retries] = match
        .slice(1)
        .map((value) => Number((value ?? '0').replaceAll(',', '')));
      const summary = summaries[index]!;
      expect(getSchedule).toBe(summary.requests.GetSchedule);
      expect(scanned).toBe(summary.scanned);
      expect(lookups).toBe(scanned! - recalled! - isProtected!);
      expect(rereads).toBe(summary.requests.rereads);
      expect(getSchedule).toBe(lookups! + rereads! + retries!);
      // Re-reads come only before deletes of finished schedules: at most one per refresh round of
      // each departure the gate tried: sent (requests.DeleteSchedule, retries included), refused (at
      // most DEPARTURES_BEFORE_KEEPING for each schedule that reached the gate, a busy machine
      // refusing some), or ended by a change it found (one). Every schedule scanned but the pending
      // and recurring ones may have reached it: `finished` leaves out those the gate kept.
      const gated = summary.scanned - summary.pending - summary.recurring;
      const departures = summary.requests.DeleteSchedule + gated * (DEPARTURES_BEFORE_KEEPING + 1);
      expect(rereads).toBeLessThanOrEqual(departures * REFRESH_ROUNDS);
    });
  });

  it('says it runs at 20 times the deployed rates, and what a deployed sweep of the account would take', () => {
    expect(stdout).toContain(
      `Request rates: 20x the deployed defaults (serverless.yml), so its durations are not a deployed sweep's:\n` +
        `  sweep ListSchedules ${20 * Number(deployed.sweepListTps)}/s (deployed ${deployed.sweepListTps}/s), ` +
        `GetSchedule ${(20 * Number(deployed.sweepGetTps)).toLocaleString('en-US')}/s (${deployed.sweepGetTps}/s), ` +
        `DeleteSchedule ${(20 * Number(deployed.sweepDeleteTps)).toLocaleString('en-US')}/s (${deployed.sweepDeleteTps}/s); ` +
        `census ListSchedules ${20 * Number(deployed.censusListTps)}/s (${deployed.censusListTps}/s)`,
    );
    const real = step(4);
    const getSchedule = Number(/"GetSchedule":(\d+)/.exec(real)?.[1]);
    // 600 schedules: GetSchedule at 100/s is the slowest of the three budgets.
    expect(real).toContain(
      `a deployed sweep of this account needs at least ${humanDuration((getSchedule / Number(deployed.sweepGetTps)) * 1000)} ` +
        `for the same requests (GetSchedule ${getSchedule.toLocaleString('en-US')} at ${deployed.sweepGetTps}/s).`,
    );
  });

  it('says why growth and days until full do not appear', () => {
    for (const census of [step(2), step(6)]) {
      expect(census).toMatch(
        /growth and days until full: not measured\. The census fits them to the ScheduleCount points of the last 3 hours/,
      );
    }
  });

  it('titles each step with what it runs: the handlers in-process, not a command it does not run', () => {
    const titles = [...stdout.matchAll(/^=== (\d\. .*)$/gm)].map((match) => match[1]!);
    expect(titles.filter((title) => /^[23456]\./.test(title))).toEqual([
      expect.stringContaining('(the census handler'),
      expect.stringContaining('the sweep handler with {"dryRun":true}'),
      expect.stringContaining('the sweep handler with {}'),
      expect.stringContaining('(the sweep handler with {} again)'),
      expect.stringContaining('(the census handler again)'),
    ]);
    for (const title of titles) expect(title).not.toMatch(/^\d\. [^(]*: sls invoke/);
  });
});
