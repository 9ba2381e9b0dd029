#!/usr/bin/env node
// Summary of a V8 CPU profile (`node --cpu-prof`, e.g. the service under the
// bench: BENCH_SERVICE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'):
// the functions with the most self time, and self time by file (node:
// internals, node_modules packages and the service's own dist/ files apart).
//
//   node bench/profile-summary.js <file.cpuprofile> [--top 40] [--files 20] [--inclusive 30]
//
// --inclusive N: also the N functions with the most total time (self time
// plus everything they called; a function recursing is counted once).
// Note: the profile samples wall time while the thread runs; a syscall
// (writeLatin1String: the socket write, loopback delivery included) counts
// whatever the kernel spends in it, and on a busy machine the time the
// thread waited for a CPU inside it too.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '40' },
    files: { type: 'string', default: '20' },
    inclusive: { type: 'string', default: '0' },
  },
});
if (positionals.length !== 1) {
  process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile> [--top N] [--files N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));

/** Microseconds of self time per node id, from the samples and their time deltas. */
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i += 1) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

function shortUrl(url) {
  if (url === '') return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

const byFunction = new Map();
const byFile = new Map();
let total = 0;
let idle = 0;
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  total += us;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') idle += us;
  const file = shortUrl(url) || `(${functionName || 'anonymous'})`;
  const key = `${functionName || '(anonymous)'}  ${file}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
const busy = total - idle;
const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
const out = [];
out.push(
  `${positionals[0]}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages of busy time)`,
);
out.push('', `top ${values.top} functions by self time:`);
for (const [key, us] of [...byFunction]
  .filter(([k]) => !k.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(values.top))) {
  out.push(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
}
out.push('', `top ${values.files} files by self time:`);
for (const [file, us] of [...byFile]
  .filter(([f]) => f !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(values.files))) {
  out.push(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${file}`);
}

if (Number(values.inclusive) > 0) {
  // Total time of each function: the self time of its node and of every node
  // below it, each function counted once per path (recursion).
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const keyOf = (n) => {
    const { functionName, url, lineNumber } = n.callFrame;
    return `${functionName || '(anonymous)'}  ${shortUrl(url) || `(${functionName || 'anonymous'})`}${url ? `:${lineNumber + 1}` : ''}`;
  };
  const inclusive = new Map();
  const walk = (node, onPath) => {
    let sub = selfUs.get(node.id) ?? 0;
    const key = keyOf(node);
    const fresh = !onPath.has(key);
    if (fresh) onPath.add(key);
    for (const child of node.children ?? []) sub += walk(byId.get(child), onPath);
    if (fresh) {
      onPath.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + sub);
    }
    return sub;
  };
  const root = profile.nodes[0];
  walk(root, new Set());
  out.push('', `top ${values.inclusive} functions by total time (self + callees):`);
  const skip = new Set(['(root)', '(idle)']);
  for (const [key, us] of [...inclusive]
    .filter(([k]) => !skip.has(k.split('  ')[0]))
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(values.inclusive))) {
    out.push(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`);
  }
}
process.stdout.write(`${out.join('\n')}\n`);
