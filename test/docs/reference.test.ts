// The manual's reference tables are read against the code they describe: every deploy parameter of
// serverless.yml with its default, every variable the stack sets on a function, and every field of
// the sweep payload. A setting added, renamed or re-defaulted without its documentation fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readCensusConfig } from '../../src/census/config.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';
import { PAYLOAD_FIELDS } from '../../src/sweep/payload.ts';

interface Row {
  /** The backticked names of the row's first cell. */
  names: string[];
  cells: string[];
}

/** The rows of the first Markdown table after `heading` whose header's first cell is `firstColumn`. */
function tableAfter(markdown: string, heading: string, firstColumn: string): Row[] {
  const section = markdown.slice(markdown.indexOf(heading));
  const start = section.search(new RegExp(`\\n\\| ${firstColumn} +\\|`));
  expect(start, `a table with '${firstColumn}' after '${heading}'`).toBeGreaterThan(-1);
  const rows: Row[] = [];
  for (const line of section
    .slice(start + 1)
    .split('\n')
    .slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, -1)
      .split(/ +\| +/)
      .map((cell) => cell.trim());
    rows.push({
      names: [...(cells[0] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string),
      cells,
    });
  }
  return rows;
}

const serverless = parse(readFileSync('serverless.yml', 'utf8')) as {
  params: { default: Record<string, string | number> };
  provider: { environment?: Record<string, unknown> };
  functions: Record<string, { environment?: Record<string, unknown> }>;
};
const sweepPage = readFileSync('docs/sweep.md', 'utf8');
const manual = readdirSync('docs')
  .filter((name) => name.endsWith('.md'))
  .map((name) => readFileSync(`docs/${name}`, 'utf8'))
  .join('\n');

/** How the table writes a default: `''` for empty, `<service>-<stage>` for the stage's own names. */
function documentedDefault(value: string | number): string {
  const text = String(value);
  if (text === '') return "`''`";
  return text.replace(/\$\{self:service\}/, '<service>').replace(/\$\{sls:stage\}/, '<stage>');
}

describe("the manual's reference tables", () => {
  it('docs/sweep.md lists every serverless.yml parameter with its default, and no other', () => {
    const rows = tableAfter(sweepPage, '### Parameters', 'parameter');
    const documented = rows.flatMap((row) => row.names);
    // Opt-in parameters have no default: serverless.yml describes them in comments only.
    const optIn = ['reservedConcurrency', 'monitoringSinkArn'];

    expect([...documented].sort()).toEqual([...Object.keys(serverless.params.default), ...optIn].sort());
    for (const row of rows) {
      const defaults = row.names.length === 1 ? [row.cells[1]] : (row.cells[1] ?? '').split(' / ');
      row.names.forEach((name, index) => {
        const value = serverless.params.default[name];
        if (value === undefined) return;
        const shown = (defaults[index] ?? defaults[0] ?? '').trim();
        const expected = documentedDefault(value);
        // A derived or empty value may be described instead of shown ('derived' for an empty count).
        if (shown === 'derived' && value === '') return;
        expect(shown.replaceAll('`', ''), `default of ${name}`).toBe(expected.replaceAll('`', ''));
      });
    }
  });

  it('the manual documents every variable the stack sets on a function', () => {
    const variables = new Set([
      ...Object.keys(serverless.provider.environment ?? {}),
      ...Object.values(serverless.functions).flatMap((fn) => Object.keys(fn.environment ?? {})),
    ]);
    expect(variables.size).toBeGreaterThan(10);
    const missing = [...variables].filter((name) => !manual.includes(`\`${name}`));
    expect(missing).toEqual([]);
  });

  it('docs/sweep.md lists exactly the fields the sweep payload accepts', () => {
    const rows = tableAfter(sweepPage, '## Manual runs and backfill', 'field');
    expect(rows.flatMap((row) => row.names)).toEqual([...PAYLOAD_FIELDS]);
  });

  it('the settings tables give each numeric variable the bounds and the default its reader applies', () => {
    const rows = [
      ...tableAfter(sweepPage, '### Function settings', 'variable'),
      ...tableAfter(readFileSync('docs/census.md', 'utf8'), '## Settings', 'variable'),
    ].filter((row) => row.names.length === 1);
    const readerOf = (name: string) =>
      name.startsWith('CENSUS_') || name === 'SCHEDULE_QUOTA' ? readCensusConfig : readSweepConfig;
    const number = (text: string) => Number(text.replaceAll(',', ''));
    let checked = 0;
    for (const row of rows) {
      const name = row.names[0] as string;
      const read = (value?: string) => readerOf(name)(value === undefined ? {} : { [name]: value });
      const bounds = /\((\d+e\d+|\d[\d,]*)\s*(?:–|to)\s*(\d+e\d+|\d[\d,]*)/.exec(
        row.cells.slice(1).join(' '),
      );
      if (bounds) {
        const [low, high] = [number(bounds[1] as string), number(bounds[2] as string)];
        expect(() => read(String(low)), `${name}=${low}`).not.toThrow();
        expect(() => read(String(high)), `${name}=${high}`).not.toThrow();
        expect(() => read(String(high + 1)), `${name}=${high + 1}`).toThrow(name);
        if (low > 0) expect(() => read(String(low - 1)), `${name}=${low - 1}`).toThrow(name);
        checked++;
      }
      // A documented default, written out, reads the same as the variable left unset.
      const shown = /^`?([\w.-]+)`?(?: \(|$)/.exec(row.cells[1] ?? '')?.[1];
      if (shown && !['derived', 'the'].includes(shown)) {
        expect(read(shown), `${name} documented default ${shown}`).toEqual(read());
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });
});
