// The README is a product page and the manual lives in docs/, one topic a page; every relative link
// between them (and from the folder READMEs that keep design notes) reaches a file that exists and,
// with an anchor, a heading that exists, so a moved section cannot leave a dead link behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/** GitHub's heading anchor: lower case, punctuation but '-' and '_' dropped, spaces to '-'. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replaceAll(' ', '-');
}

/** The anchors of a Markdown page's headings (outside fenced blocks). */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (heading?.[1] && !fenced) anchors.add(anchorOf(heading[1]));
  }
  return anchors;
}

const folderReadmes = ['src', 'scripts']
  .flatMap((root) => readdirSync(root).map((name) => join(root, name, 'README.md')))
  .filter((file) => existsSync(file));
const PAGES = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  ...folderReadmes,
];

describe('the README and the manual', () => {
  it('the README is a product page of at most about 250 lines with the sections a newcomer looks for', () => {
    const readme = readFileSync('README.md', 'utf8');

    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(260);
    for (const section of [
      '## Contents',
      '## Safety rails',
      '## Quick start',
      '## Deploy',
      '## Uninstall',
      '## What it costs',
      '## Limits and status',
      '## The manual',
    ]) {
      expect(readme).toContain(`\n${section}\n`);
    }
    // Every page of the manual is linked from the README.
    for (const page of readdirSync('docs').filter((name) => name.endsWith('.md') && name !== 'README.md')) {
      expect(readme, page).toContain(`(docs/${page})`);
    }
    expect(existsSync('LICENSE')).toBe(true);
  });

  it('every relative link and anchor in README.md, docs/ and the folder READMEs resolves', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path = '', anchor] = target.split('#');
        const file = path === '' ? page : normalize(join(dirname(page), path));
        if (!existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor))
          broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("docs/development.md's tree names every folder of src/, and none that is gone", () => {
    const page = readFileSync('docs/development.md', 'utf8');
    const tree = /## The tree\n\n```\n([\s\S]*?)```/.exec(page)?.[1] ?? '';
    const named = [...tree.matchAll(/^src\/([\w-]+)\//gm)].map((match) => match[1]).sort();
    const folders = readdirSync('src', { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();

    expect(named).toEqual(folders);
  });

  it('every file path the pages name in code spans exists (src/, scripts/, test/, resources/)', () => {
    const missing: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(page, 'utf8');
      for (const [, path = ''] of text.matchAll(
        /`((?:src|scripts|test|resources)\/[\w./-]+\.(?:ts|yml|json|md))`/g,
      )) {
        if (!existsSync(path)) missing.push(`${page}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
