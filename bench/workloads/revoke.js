// (d) Revoke then check: K tokens created through the API, each checked once
// (so an in-process cache holds them), DELETEd, then checked again: every one
// must answer 404. Anything else is counted as an error.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runLoad } from '../lib/measure.js';
import { CHECK_SCOPE } from '../lib/service.js';

/** Creates `count` tokens with `concurrency` logins in flight (round-robin over users). */
export async function createTokens(service, users, count, concurrency = 4) {
  const tokens = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const u = users[i % users.length];
      tokens[i] = await service.login(u.username, u.password, 3600);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return tokens;
}

export async function runRevokeWorkload(ctx, env) {
  const { opts } = ctx;
  const k = opts.revokeTokens;
  ctx.log(`[${env.engine}] revoke: creating ${k} tokens through the API`);
  const started = Date.now();
  const tokens = await createTokens(env.main, env.loginUsers, k);
  const createSeconds = (Date.now() - started) / 1000;

  const file = (name, list) => {
    const f = path.join(ctx.tmp, `${env.engine}-revoke-${name}.json`);
    writeFileSync(f, JSON.stringify(list));
    return f;
  };
  const heads = file(
    'head',
    tokens.map((t) => ({ method: 'HEAD', path: `/0.1/token/${t}?scope=${CHECK_SCOPE}` })),
  );
  const deletes = file(
    'delete',
    tokens.map((t) => ({ method: 'DELETE', path: `/0.1/token/${t}` })),
  );
  const connections = Math.min(8, k);

  const before = await runLoad(ctx, env.main, { requestsFile: heads, amount: k, connections });
  const del = await runLoad(ctx, env.main, { requestsFile: deletes, amount: k, connections });
  const after = await runLoad(ctx, env.main, { requestsFile: heads, amount: k, connections });

  const validBefore = before.statusCodes['204'] ?? 0;
  const deleted = del.statusCodes['200'] ?? 0;
  const notFound = after.statusCodes['404'] ?? 0;
  const mismatches = k - validBefore + (k - deleted) + (k - notFound) + before.errors + del.errors + after.errors;
  const r = {
    tokens: k,
    createSeconds,
    checkBefore: { rps: before.rps, p99: before.latencyMs.p99, statusCodes: before.statusCodes, errors: before.errors },
    delete: {
      rps: del.rps,
      p50: del.latencyMs.p50,
      p99: del.latencyMs.p99,
      statusCodes: del.statusCodes,
      errors: del.errors,
      cpuPerRequestUs: del.cpuPerRequestUs,
    },
    checkAfter: {
      rps: after.rps,
      p50: after.latencyMs.p50,
      p99: after.latencyMs.p99,
      statusCodes: after.statusCodes,
      errors: after.errors,
      cpuPerRequestUs: after.cpuPerRequestUs,
    },
    mismatches,
  };
  ctx.log(
    `  ${k} tokens: before ${JSON.stringify(before.statusCodes)}, DELETE ${JSON.stringify(del.statusCodes)} at ${del.rps.toFixed(0)}/s, after ${JSON.stringify(after.statusCodes)}`,
  );
  if (mismatches > 0) {
    ctx.problem(
      env.engine,
      'revoke',
      `${mismatches} mismatches: before ${JSON.stringify(before.statusCodes)}, DELETE ${JSON.stringify(del.statusCodes)}, after ${JSON.stringify(after.statusCodes)}`,
    );
  }
  ctx.target(env.engine, 'revoked tokens: every check answers 404', mismatches === 0, `${notFound}/${k} answered 404`);
  return r;
}
