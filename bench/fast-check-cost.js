#!/usr/bin/env node
// CPU of the check's fast path itself (src/http/fast-check.ts: URL and query
// reading, the decision, the answer), without the token service, the socket
// or Node's HTTP objects: a mock TokenService answers at once (a cache hit:
// synchronously from checkCached, or with --async through check()'s promise,
// as a cache miss whose store read costs nothing), a mock response ends the
// request. Each call runs inside an
// AsyncLocalStorage `run`, as the service's listener does (every promise then
// pays an async-hooks init). Differences of a fraction of a microsecond are
// lost in the service's figures on a shared machine; here they are not.
//
//   npm run build && node bench/fast-check-cost.js [--calls 500000] [--runs 5] [--dist DIR] [--async]
//
// --dist: another build's dist/ (e.g. an export of an older commit, built)
// to compare with; prints µs of CPU per check, median of the runs.
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './lib/service.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '500000' },
    runs: { type: 'string', default: '5' },
    dist: { type: 'string', multiple: true, default: [] },
    async: { type: 'boolean', default: false },
  },
});
const calls = Number(values.calls);
const runs = Number(values.runs);
const dists = [path.join(REPO_ROOT, 'dist'), ...values.dist.map((d) => path.resolve(d))];

const als = new AsyncLocalStorage();
const record = { expiresAt: Date.now() + 86_400_000 };
// Builds older than TokenService.checkCached only call check().
const tokens = {
  checkCached: () => (values.async ? null : record),
  async check() {
    return record;
  },
};
// What SecurityHttp.wrap passes a listener writing the security headers itself.
const securityHeaders = ['X-Content-Type-Options', 'nosniff', 'Cache-Control', 'no-store'];
const url = '/0.1/token/CNa0TMfTn0nzMfr6we-Z8PmV0oLtEBwMLqV-6WdY7RY?scope=confd.users.read';
const BATCH = 32;

async function once(withFastCheck) {
  const listener = withFastCheck(
    tokens,
    () => {
      throw new Error('the fast path declined the request');
    },
    () => {},
  );
  let pending = 0;
  let settled = () => {};
  const res = {
    statusCode: 200,
    setHeader() {},
    writeHead(status) {
      this.statusCode = status;
      return this;
    },
    end() {
      if (--pending === 0) settled();
    },
  };
  const req = { url, method: 'HEAD', headers: {} };
  const started = process.cpuUsage();
  for (let i = 0; i < calls; i += BATCH) {
    const batch = new Promise((resolve) => {
      settled = resolve;
    });
    pending = BATCH;
    for (let j = 0; j < BATCH; j++) als.run({}, () => listener(req, res, securityHeaders));
    await batch;
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / calls;
}

const variants = [];
for (const dist of dists) {
  const { withFastCheck } = await import(pathToFileURL(path.join(dist, 'http', 'fast-check.js')).href);
  variants.push({ dist, withFastCheck, us: [] });
}
for (let r = 0; r < runs; r++) {
  // Alternate the order: the second of two runs in a row profits from a warmer heap.
  for (const v of r % 2 === 0 ? variants : [...variants].reverse()) v.us.push(await once(v.withFastCheck));
}
for (const v of variants) {
  process.stdout.write(
    `${path.relative(process.cwd(), v.dist) || v.dist}: ${median(v.us).toFixed(3)} µs of CPU per check (runs: ${v.us.map((x) => x.toFixed(3)).join(', ')})\n`,
  );
}
