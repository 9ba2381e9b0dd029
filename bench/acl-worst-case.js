// Cost of one ACL check at the limits (issue 16): the costliest ACLs the
// service accepts (bench/lib/acl-worst-case.js) against the costliest
// required access, next to a typical token's ACL, in the same run.
//
//   npm run build && node bench/acl-worst-case.js [--runs 15]
//
// Prints CPU and wall milliseconds per check (medians; CPU time is what the
// check takes from the event loop) and the ratio to the typical check.
import { parseArgs } from 'node:util';
import { compileAcl } from '@xivo-auth/acl';
import { LIMITS, measure, typicalCase, worstCases } from './lib/acl-worst-case.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);
const ctx = { authId: 'u', sessionUuid: 's' };

// The typical check is a microsecond or so: time a loop of them.
const typical = typicalCase();
const typicalAcl = compileAcl(typical.acl, ctx);
const LOOP = 20_000;
for (let i = 0; i < LOOP; i++) typicalAcl.matches(typical.scope);
const perCheck = [];
for (let r = 0; r < runs; r++) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < LOOP; i++) typicalAcl.matches(typical.scope);
  const d = process.cpuUsage(c0);
  perCheck.push((d.user + d.system) / 1000 / LOOP);
}
perCheck.sort((a, b) => a - b);
const typicalMs = perCheck[perCheck.length >> 1];

console.log(
  `limits: ${LIMITS.entries} accesses per token, ${LIMITS.length} characters, ${LIMITS.wildcards} wildcards; ${runs} runs, medians`,
);
console.log(`typical: ${typical.description}: ${(typicalMs * 1000).toFixed(2)} µs CPU per check`);
console.log('');
const rows = [['case', 'CPU ms', 'wall ms', '× typical']];
let worst = { name: '', cpuMs: 0 };
for (const c of worstCases()) {
  const compiled = compileAcl(c.acl, ctx);
  const m = measure(compiled, c.scope, { runs, warmup: 3 });
  if (m.result !== c.granted) throw new Error(`${c.name}: expected ${c.granted}, got ${m.result}`);
  if (m.cpuMs > worst.cpuMs) worst = { name: c.name, cpuMs: m.cpuMs };
  rows.push([c.name, m.cpuMs.toFixed(2), m.wallMs.toFixed(2), (m.cpuMs / typicalMs).toFixed(0)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
console.log('');
console.log(
  `worst: ${worst.name}, ${worst.cpuMs.toFixed(2)} ms CPU per check (${(worst.cpuMs / typicalMs).toFixed(0)} × the typical check; budget 10 ms)`,
);
