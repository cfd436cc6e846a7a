import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Product lines by concern, at a commit and now, as the table in docs/architecture.md. The commit is checked out
 * in a temporary worktree and formatted with this tree's Prettier config first, so both sides are counted alike.
 *   npx tsx scripts/line-count.ts --before d1e1914            print the table
 *   npx tsx scripts/line-count.ts --before d1e1914 --write    rewrite it in docs/architecture.md
 */
const productFolders = ['cli', 'config', 'core', 'elasticsearch', 'forwarder', 'proxy', 'queue', 'tls'];
/** Generated, never written by hand (npm run docs). */
const generated = new Set(['queue/otlp/descriptor.ts']);
/**
 * Whole files of features added since #15 was filed: counted apart, so "same features" compares like with like.
 * Each is a file d1e1914 had no counterpart of, for a capability it lacked: OTLP, RUM and source maps (#18, #19),
 * the hostile-input bounds and memory budget (#14: client-ip, json-bounds, memory-budget, hostile, big-integers,
 * digit-runs, heap-reclaimer, lazy-tls, client-errors, redact), the job safety of #13 (job-admission,
 * job-body-chunks, job-starts, orphan-reclaim, dead-letter/unreadable, redis-safety, redis-target), partitions,
 * Sentinel and Cluster (#17: partition, intake-queue), server.workers and the cost work (#16: proxy/cluster/,
 * heap-growth, transform/fragments, schema/split), start's data-directory lock (#12) and the periodic metrics
 * log #15 itself asked for (metrics-log). Features that grew inside an older file stay in "same features".
 */
const added =
  /otlp|\/rum\/|rumv3|sourcemap|client-ip|json-bounds|memory-budget|hostile|big-integers|job-admission|job-body-chunks|job-starts|orphan-reclaim|dead-letter\/unreadable|redis-safety|redis-target|partition|intake-queue|proxy\/cluster\/|heap-reclaimer|lazy-tls|client-errors|core\/redact|digit-runs|heap-growth|transform\/fragments|schema\/split|data-dir-lock|metrics-log/;

type Measure = { readonly lines: RegExp } | { readonly count: RegExp; readonly in?: RegExp };
const concerns: ReadonlyArray<readonly [string, Measure]> = [
  [
    'agent answers (results, renderer, bodies)',
    { lines: /^(core\/(errors|results)|proxy\/(answer|.*\/response|otlp\/grpc-status))\.ts$/ },
  ],
  [
    'Elasticsearch failure classification',
    { lines: /^(elasticsearch\/(errors|outcome)|forwarder\/(outcomes|output\/elasticsearch-sink))\.ts$/ },
  ],
  [
    'config interpretation (load, formats, runtime view)',
    { lines: /^(config\/(?!schema)[^/]+|core\/(duration|cidr|listen))\.ts$/ },
  ],
  ['admin servers', { lines: /^(core\/admin-server|(proxy|forwarder)\/(admin|readiness))\.ts$/ }],
  ['intake path (proxy/intake, schemas aside)', { lines: /^proxy\/intake\/[^/]+\.ts$/ }],
  ['authentication call sites (count)', { count: /\.(authenticate|identifyOptionally)\(/g, in: /^proxy\/(?!auth\/)/ }],
  ['isRecord definitions (count)', { count: /(function|const) isRecord\b/g }],
  ['hand-written typeof checks (count)', { count: /typeof \S+ [!=]==? '/g }],
  ['all product code', { lines: /./ }],
];

function productFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const file = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts') && !generated.has(file))
        files.set(file, fs.readFileSync(path.join(root, file), 'utf8'));
    }
  };
  for (const folder of productFolders) if (fs.existsSync(path.join(root, folder))) walk(folder);
  return files;
}

/** [all, of which added features] for one concern. */
function measure(files: Map<string, string>, m: Measure): [number, number] {
  let all = 0;
  let ofAdded = 0;
  for (const [file, text] of files) {
    const n =
      'lines' in m
        ? m.lines.test(file)
          ? text.split('\n').length - 1
          : 0
        : (m.in ?? /./).test(file)
          ? (text.match(m.count) ?? []).length
          : 0;
    all += n;
    if (added.test(file)) ofAdded += n;
  }
  return [all, ofAdded];
}

function formattedCheckout(commit: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'line-count-'));
  execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { stdio: 'ignore' });
  fs.copyFileSync('.prettierrc.json', path.join(dir, '.prettierrc.json'));
  const prettier = path.resolve('node_modules/.bin/prettier');
  execFileSync(
    prettier,
    ['--write', '--log-level', 'warn', ...productFolders.filter((f) => fs.existsSync(path.join(dir, f)))],
    { cwd: dir },
  );
  return dir;
}

function table(commit: string): string {
  const dir = formattedCheckout(commit);
  try {
    const before = productFiles(dir);
    const now = productFiles('.');
    const n = (v: number): string => v.toLocaleString('en-US');
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const rows = concerns.map(([name, m]) => {
      const [b] = measure(before, m);
      const [a, ofAdded] = measure(now, m);
      return `| ${name} | ${n(b)} | ${n(a)} | ${n(ofAdded)} | ${n(a - ofAdded)} |`;
    });
    return [
      `| concern | ${commit} | now (${head}) | of which added features | now, same features |`,
      '|---|--:|--:|--:|--:|',
      ...rows,
    ].join('\n');
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', dir], { stdio: 'ignore' });
  }
}

const at = process.argv.indexOf('--before');
const commit = at >= 0 ? process.argv[at + 1] : undefined;
if (commit === undefined) throw new Error('usage: npx tsx scripts/line-count.ts --before <commit> [--write]');
const rendered = table(commit);
if (!process.argv.includes('--write')) process.stdout.write(`${rendered}\n`);
else {
  const doc = 'docs/architecture.md';
  const begin = '<!-- line-count:begin (npx tsx scripts/line-count.ts --before d1e1914 --write) -->';
  const end = '<!-- line-count:end -->';
  const text = fs.readFileSync(doc, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${doc} has no ${begin} ... ${end} markers`);
  fs.writeFileSync(doc, `${text.slice(0, from + begin.length)}\n${rendered}\n${text.slice(to)}`);
}
