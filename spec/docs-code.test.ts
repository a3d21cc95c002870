/**
 * Every code block of README.md and docs/ (but docs/spec/, the method spec, kept as written) is checked:
 *
 * - ```ts: type-checked under strict, all blocks in one tsc run, importing 'bplambda' and its subpaths as a user
 *   of the package does (the exports of package.json, so against dist/: `npm run build` first); then run with
 *   node. ```ts no-run blocks are only type-checked: they declare placeholders (`declare const config: …`) or
 *   need what this machine lacks (WebGL2); each says so in the text around it.
 * - ```sh: each `bplambda` command (also as `npm run --silent bplambda --` or `node dist/src/cli/main.js`) names a
 *   real subcommand, every `--option` is in that subcommand's --help, and every plain word given as a value
 *   (a task, a method, a backend) is in it too; `npm run X` names a script of package.json; repository paths
 *   exist. Nothing is run.
 * - ```jsonc: sketches of the trace format; every key is a property of a JSON Schema in schemas/.
 * - ```text: output and layouts, not code.
 *
 * Blocks go to test-artifacts/docs-check/ (ignored by git), so 'bplambda' resolves to this package by its name.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, 'test-artifacts/docs-check');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const LANGS = new Set(['ts', 'sh', 'jsonc', 'text']);

interface Block {
  readonly doc: string;
  /** Line of the opening fence (1-based). */
  readonly line: number;
  readonly lang: string;
  readonly flags: readonly string[];
  readonly code: string;
}

const docs = (dir: string): string[] =>
  readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (rel === 'docs/spec') return [];
    return statSync(join(ROOT, rel)).isDirectory() ? docs(rel) : name.endsWith('.md') ? [rel] : [];
  });

const blocksOf = (doc: string): Block[] => {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) j++;
    const [lang = '', ...flags] = open[2]!.trim().split(/\s+/).filter(Boolean);
    out.push({ doc, line: i + 1, lang, flags, code: lines.slice(i + 1, j).map((l) => l.slice(Math.min(indent, l.search(/\S|$/)))).join('\n') });
    i = j;
  }
  return out;
};

const BLOCKS = ['README.md', ...docs('docs')].flatMap(blocksOf);
const where = (b: Block) => `${b.doc}:${b.line}`;
const fileOf = (b: Block) => `${b.doc.replace(/[^\w]/g, '_')}_L${b.line}`;

const run = (args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });

/** Runs `jobs` with at most `n` at a time (the machine has 2 cores). */
const pooled = async <T>(jobs: (() => Promise<T>)[], n = 2): Promise<T[]> => {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const k = next++;
      out[k] = await jobs[k]!();
    }
  }));
  return out;
};

describe('docs: code blocks', () => {
  it('every block says what it is (ts, sh, jsonc or text)', () => {
    expect(BLOCKS.length).toBeGreaterThan(20);
    expect(BLOCKS.filter((b) => !LANGS.has(b.lang) || b.flags.some((f) => f !== 'no-run' || b.lang !== 'ts')).map(where)).toEqual([]);
  });

  describe('ts blocks', () => {
    const ts = BLOCKS.filter((b) => b.lang === 'ts');
    let tsc: { code: number | null; stdout: string };

    beforeAll(async () => {
      expect(existsSync(CLI), 'dist/ is missing: npm run build').toBe(true);
      rmSync(WORK, { recursive: true, force: true });
      mkdirSync(join(WORK, 'src'), { recursive: true });
      for (const b of ts) writeFileSync(join(WORK, 'src', `${fileOf(b)}.ts`), `${b.code}\nexport {};\n`);
      const compilerOptions = {
        target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2023'], types: ['node'],
        strict: true, skipLibCheck: true, rootDir: 'src', outDir: 'out',
      };
      writeFileSync(join(WORK, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
      tsc = await run([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(WORK, 'tsconfig.json')], 120_000);
    }, 180_000);

    it('type-check (one tsc run; errors are reported at their line in the doc)', () => {
      const byFile = new Map(ts.map((b) => [fileOf(b), b]));
      const errors = tsc.stdout.split('\n').filter((l) => l.includes('error')).map((l) => {
        const m = /src\/(\w+)\.ts\((\d+),\d+\): (.*)/.exec(l);
        const b = m ? byFile.get(m[1]!) : undefined;
        return b ? `${b.doc}:${b.line + Number(m![2])}: ${m![3]}` : l;
      });
      expect(errors).toEqual([]);
      expect(tsc.code).toBe(0);
    });

    it('run (every block but the no-run ones)', async () => {
      const runnable = ts.filter((b) => !b.flags.includes('no-run'));
      const results = await pooled(runnable.map((b) => () => run([join(WORK, 'out', `${fileOf(b)}.js`)])));
      expect(runnable.map((b, k) => `${where(b)}: exit ${results[k]!.code} ${results[k]!.stderr}`)).toEqual(runnable.map((b) => `${where(b)}: exit 0 `));
      // The README's minimal example runs verbatim: two sequences of three steps, a finite loss.
      const readme = runnable.findIndex((b) => b.doc === 'README.md' && b.code.includes('bpLambdaSequence'));
      expect(readme).toBeGreaterThanOrEqual(0);
      const [steps, loss] = results[readme]!.stdout.split(' ');
      expect(steps).toBe('3');
      expect(Number.isFinite(Number(loss)) && Number(loss) > 0).toBe(true);
    });
  });

  describe('sh blocks', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    /** Each command of the sh blocks: continuation lines joined, comments dropped, split at && ; and pipes. */
    const commands = BLOCKS.filter((b) => b.lang === 'sh').flatMap((b) =>
      b.code.replace(/\\\n/g, ' ').split('\n').flatMap((l, k) =>
        l.replace(/(^|\s)#.*$/, '').split(/\s(?:&&|;|\|)\s|\s&$/).map((c) => ({ at: `${b.doc}:${b.line + 1 + k}`, words: c.trim().split(/\s+/).filter(Boolean) })),
      ).filter((c) => c.words.length > 0),
    );
    /** The bplambda arguments of a command, or null when it is not one. */
    const bplambdaArgs = (w: string[]): string[] | null => {
      if (w[0] === 'bplambda') return w.slice(1);
      if (w[0] === 'npm' && w.includes('bplambda') && w.includes('--')) return w.slice(w.indexOf('--') + 1);
      const main = w.findIndex((x) => x.endsWith('dist/src/cli/main.js'));
      return w[0] === 'node' && main > 0 ? w.slice(main + 1) : null;
    };
    let help: Map<string, string>;

    beforeAll(async () => {
      expect(existsSync(CLI), 'dist/ is missing: npm run build').toBe(true);
      const top = (await run([CLI, '--help'])).stdout;
      const names = [...top.slice(top.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!);
      const texts = await pooled(names.map((n) => async () => (await run([CLI, n, '--help'])).stdout));
      help = new Map(names.map((n, k) => [n, texts[k]!]));
    }, 120_000);

    it('bplambda commands: real subcommands, options and values', () => {
      const bad: string[] = [];
      const used = commands.flatMap((c) => {
        const args = bplambdaArgs(c.words);
        return args ? [{ at: c.at, args: args.flatMap((a) => a.replace(/[[\]]/g, '').split('|')).filter(Boolean) }] : [];
      });
      expect(used.length).toBeGreaterThan(20);
      for (const { at, args } of used) {
        const [cmd, ...rest] = args;
        const text = help.get(cmd!);
        if (text === undefined) {
          bad.push(`${at}: no subcommand '${cmd}'`);
          continue;
        }
        for (const a of rest) {
          if (a.startsWith('--')) {
            if (!new RegExp(`(^|[\\s,])${a}\\b(?!-)`, 'm').test(text)) bad.push(`${at}: '${cmd}' has no option ${a}`);
          } else {
            // A plain word (a task, a method, a backend, a preset): in the subcommand's help. Paths, numbers and
            // upper-case placeholders (CASE.json, N, NAME) are left to the other checks.
            for (const word of a.split(/[,:]/)) if (/^[a-z][a-z-]*\d*$/.test(word) && !text.includes(word)) bad.push(`${at}: '${word}' is not in '${cmd} --help'`);
          }
        }
      }
      expect(bad).toEqual([]);
    });

    it('npm scripts exist', () => {
      const bad = commands
        .filter((c) => c.words[0] === 'npm' || (c.words[0]?.includes('=') && c.words[1] === 'npm'))
        .map((c) => ({ at: c.at, w: c.words.filter((x) => !x.includes('=')).slice(1).filter((x) => x !== '--silent') }))
        .filter(({ w }) => (w[0] === 'run' ? !scripts.includes(w[1]!) : ['start', 'test'].includes(w[0]!) && !scripts.includes(w[0]!)))
        .map(({ at, w }) => `${at}: npm ${w.join(' ')}`);
      expect(bad).toEqual([]);
    });

    it('repository paths exist', () => {
      const tops = /^(src|spec|docs|demo|examples|schemas|bench|property-tests|test-support)\//;
      const bad = commands.flatMap((c) => c.words.filter((w) => tops.test(w) && !existsSync(join(ROOT, w.replace(/[[\]]/g, '')))).map((w) => `${c.at}: ${w}`));
      expect(bad).toEqual([]);
    });
  });

  it('jsonc blocks: every key is a property of a schema in schemas/', () => {
    const schemaText = readdirSync(join(ROOT, 'schemas')).map((f) => readFileSync(join(ROOT, 'schemas', f), 'utf8')).join('\n');
    const bad = BLOCKS.filter((b) => b.lang === 'jsonc').flatMap((b) =>
      [...b.code.matchAll(/"(\w+)"\s*:/g)].filter((m) => !schemaText.includes(`"${m[1]}":`)).map((m) => `${where(b)}: "${m[1]}"`),
    );
    expect(BLOCKS.some((b) => b.lang === 'jsonc')).toBe(true);
    expect(bad).toEqual([]);
  });
});
