/**
 * Links and citations resolve inside the repository.
 *
 * - Relative markdown links in README.md, docs/ and examples/ name a file that exists, and a `#anchor` names a heading
 *   of that file (GitHub's slugs).
 * - Repository paths written in prose or comments (`docs/gpu.md`, `src/core/learner.ts`, …) exist (Python paths
 *   are left out: those cited are the authors' code).
 * - Every `§N` citation, in any scanned file, means section N of docs/spec/bp-lambda.md (the convention stated in the
 *   README and docs/architecture.md): that numbered heading exists; "§8.11 item 3" also needs item 3 in §8.11, and
 *   "§5 T1", "§10 I3–I7" the labelled results in that section.
 * - Nothing points at the planning area outside the repository.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SPEC = 'docs/spec/bp-lambda.md';

const walk = (dir: string, ext: RegExp): string[] =>
  !existsSync(join(ROOT, dir))
    ? []
    : readdirSync(join(ROOT, dir)).flatMap((name) => {
        const rel = join(dir, name);
        if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
        return statSync(join(ROOT, rel)).isDirectory() ? walk(rel, ext) : ext.test(name) ? [rel] : [];
      });

const FILES = [
  'README.md',
  ...walk('docs', /\.md$/),
  ...walk('examples', /\.md$/),
  ...walk('src', /\.ts$/),
  ...walk('property-tests', /\.ts$/),
  ...walk('spec', /\.ts$/),
  ...walk('test-support', /\.ts$/),
  ...walk('schemas', /\.json$/),
  ...walk('bench', /\.(mjs|md)$/),
];
const SELF = 'spec/docs-links.test.ts'; // its controls cite missing sections on purpose
const text = new Map(FILES.filter((f) => f !== SELF).map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
const lineOf = (s: string, index: number): number => s.slice(0, index).split('\n').length;

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
const anchors = (markdown: string): Set<string> => {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
};

/** The numbered sections of a spec: "8.11" → the text from its heading to the next heading of its level or above. */
const sections = (markdown: string): Map<string, string> => {
  const lines = markdown.split('\n');
  const heads = lines.flatMap((l, i) => {
    const m = /^(#{1,6})\s+(\d+(?:\.\d+)*)\.?\s/.exec(l);
    return m ? [{ i, level: m[1]!.length, num: m[2]! }] : [];
  });
  const levelAt = (l: string) => /^(#{1,6})\s/.exec(l)?.[1]!.length ?? 0;
  return new Map(
    heads.map(({ i, level, num }) => {
      let end = i + 1;
      while (end < lines.length && !(levelAt(lines[end]!) > 0 && levelAt(lines[end]!) <= level)) end++;
      return [num, lines.slice(i, end).join('\n')];
    }),
  );
};

/** What is wrong with each `§` citation of `s` against the spec's sections (empty: all resolve). */
const badCitations = (s: string, spec: Map<string, string>): string[] => {
  const bad: string[] = [];
  for (const m of s.matchAll(/§(\d+(?:\.\d+)*)(?:,?\s+item\s+(\d+)|\s+([TI]\d+)(?:\s*[/–-]\s*([TI]\d+))?)?/g)) {
    const [cite, num, item, ...labels] = m as unknown as [string, string, string?, string?, string?];
    const body = spec.get(num);
    const at = `${lineOf(s, m.index)}: ${cite}`;
    if (body === undefined) bad.push(`${at}: no section ${num}`);
    else if (item !== undefined && !new RegExp(`^${item}\\. `, 'm').test(body)) bad.push(`${at}: no item ${item} in §${num}`);
    else for (const l of labels) if (l !== undefined && !new RegExp(`\\*\\*${l}[.:]`).test(body)) bad.push(`${at}: no ${l} in §${num}`);
  }
  return bad;
};

describe('docs: links and citations', () => {
  const spec = sections(readFileSync(join(ROOT, SPEC), 'utf8'));

  it('the spec has its numbered sections', () => {
    expect([...spec.keys()]).toEqual(expect.arrayContaining(['0', '4.3', '8.11', '10', '12']));
  });

  it('relative markdown links name files (and headings) that exist', () => {
    const bad: string[] = [];
    for (const [f, s] of text) {
      if (!f.endsWith('.md')) continue;
      for (const m of s.replace(/^```[\s\S]*?^```/gm, (b) => b.replace(/[^\n]/g, ' ')).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#') as [string, string?];
        const file = path === '' ? join(ROOT, f) : resolve(ROOT, dirname(f), decodeURI(path));
        const at = `${f}:${lineOf(s, m.index)}: ${target}`;
        if (!file.startsWith(ROOT + '/') || !existsSync(file)) bad.push(`${at}: no such file in the repository`);
        else if (anchor !== undefined && !anchors(readFileSync(file, 'utf8')).has(anchor)) bad.push(`${at}: no heading #${anchor}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('repository paths named in prose and comments exist', () => {
    const bad: string[] = [];
    const pathRe = /(?<![\w./-])((?:docs|src|spec|property-tests|test-support|schemas|examples|bench|demo)\/[\w./-]*\w\.(?:md|ts|mjs|json|png|html))(?![\w/])/g;
    for (const [f, s] of text) {
      if (f.startsWith('docs/spec/')) continue; // the spec's paths are those of the authors' repository
      // Link targets are relative to their file and checked above.
      for (const m of s.replace(/\]\([^)]*\)/g, (l) => ' '.repeat(l.length)).matchAll(pathRe)) {
        if (!existsSync(join(ROOT, m[1]!))) bad.push(`${f}:${lineOf(s, m.index)}: ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it(`every § citation names a section of ${SPEC}`, () => {
    const bad = [...text].flatMap(([f, s]) => badCitations(s, spec).map((b) => `${f}:${b}`));
    expect(bad).toEqual([]);
    const cited = [...text.values()].reduce((n, s) => n + (s.match(/§\d/g)?.length ?? 0), 0);
    expect(cited).toBeGreaterThan(50);
  });

  it('a citation of a missing section, item or label is caught (control)', () => {
    expect(badCitations('spec §8.2 and §8.11 item 7; §5 T1/T2, §10 I3–I7', spec)).toEqual([]);
    expect(badCitations('spec §8.12', spec)).toEqual(['1: §8.12: no section 8.12']);
    expect(badCitations('x\n§8.11 item 17', spec)).toEqual(['2: §8.11 item 17: no item 17 in §8.11']);
    expect(badCitations('§5 T9', spec)).toEqual(['1: §5 T9: no T9 in §5']);
    expect(badCitations('§10 I3–I15', spec)).toEqual(['1: §10 I3–I15: no I15 in §10']);
  });

  it('nothing points outside the repository to the planning area', () => {
    const outside = new RegExp('\\.\\./shared/|' + 'shared/(?:spec|research)/'); // split so this file does not match
    const bad = [...text].filter(([, s]) => outside.test(s)).map(([f, s]) => `${f}:${lineOf(s, s.search(outside))}`);
    expect(bad).toEqual([]);
  });
});
