#!/usr/bin/env node
/**
 * The table of docs/testing.md from Stryker's JSON reports: per file and in all, the mutation score (killed and
 * timed out over all valid mutants), the score of covered mutants, and the counts by status; then the surviving
 * and uncovered mutants, one line each (file:line, mutator, replacement), for the list of gaps.
 *
 *   node reports/mutation/summary.mjs reports/mutation/core/mutation.json [more reports…] [--survivors]
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const survivors = args.includes('--survivors');
const files = {};
for (const path of args.filter((a) => !a.startsWith('--'))) Object.assign(files, JSON.parse(readFileSync(path, 'utf8')).files);

const count = (mutants) => {
  const c = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  for (const m of mutants) c[m.status] = (c[m.status] ?? 0) + 1;
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  return { ...c, score: valid === 0 ? null : (100 * detected) / valid, covered: detected + c.Survived === 0 ? null : (100 * detected) / (detected + c.Survived) };
};
const pct = (x) => (x === null ? '—' : `${x.toFixed(1)}%`);
const row = (name, c) => `| ${name} | ${pct(c.score)} | ${pct(c.covered)} | ${c.Killed + c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.CompileError} |`;

const names = Object.keys(files).sort();
console.log('| file | score | covered score | killed | survived | no coverage | compile errors |');
console.log('|---|---|---|---|---|---|---|');
console.log(row('all', count(names.flatMap((n) => files[n].mutants))).replace('| all |', '| **all** |'));
for (const n of names) console.log(row(n, count(files[n].mutants)));
if (survivors)
  for (const n of names)
    for (const m of files[n].mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage'))
      console.log(`${m.status === 'Survived' ? 'survived ' : 'uncovered'} ${n}:${m.location.start.line} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? '').slice(0, 100)}`);
