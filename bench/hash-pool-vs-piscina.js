// Issue 17: the service's hashing pool (src/passwords/: one niced worker
// thread per slot, each holding its next job) against piscina with the same
// niceness (niceIncrement), verifying argon2id with the service's default
// parameters at 16 in flight, in interleaved trials. Prints verifies/s, the
// event loop's maximum delay and the process's CPU per verify.
//
// piscina is not a dependency of the service; install it for this run only:
//   npm run build && npm i --no-save piscina@5 @napi-rs/nice && node bench/hash-pool-vs-piscina.js
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hashSync } from '@node-rs/argon2';
import { PasswordHasher } from '../dist/passwords/hasher.js';

let Piscina;
try {
  ({ Piscina } = await import('piscina'));
} catch {
  console.error('piscina is not installed: npm i --no-save piscina@5 @napi-rs/nice');
  process.exit(1);
}

const TRIALS = 3;
const VERIFIES = 200;
const IN_FLIGHT = 16;
const PASSWORD = 'secret-password';
const hash = hashSync(PASSWORD, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
const threads = (await import('node:os')).availableParallelism();
const ours = new PasswordHasher({
  memory_kib: 19456,
  iterations: 2,
  parallelism: 1,
  max_concurrent: 0,
  max_queue: 1000,
  niceness: 10,
});
const pool = new Piscina({
  filename: new URL('./piscina/worker.js', import.meta.url).href,
  minThreads: threads,
  maxThreads: threads,
  niceIncrement: 10,
});

async function trial(verify) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < VERIFIES) if (!(await verify())) throw new Error('verify failed');
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  return { rate: VERIFIES / seconds, loopMaxMs: delay.max / 1e6, cpuMsPerVerify: (cpu.user + cpu.system) / 1000 / VERIFIES };
}

const sides = {
  'own pool (src/passwords)': () => ours.verify(hash, PASSWORD),
  'piscina (niceIncrement 10)': () => pool.run({ hash, password: PASSWORD }),
};
const results = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (const verify of Object.values(sides)) await trial(verify); // warm-up
for (let i = 0; i < TRIALS; i++) for (const [name, verify] of Object.entries(sides)) results[name].push(await trial(verify));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${threads} hashing threads, ${IN_FLIGHT} verifies in flight, ${TRIALS} interleaved trials of ${VERIFIES}`);
for (const [name, rs] of Object.entries(results)) {
  console.log(
    `${name.padEnd(28)} ${median(rs.map((r) => r.rate)).toFixed(1)} verifies/s` +
      `  loop delay max ${median(rs.map((r) => r.loopMaxMs)).toFixed(1)} ms` +
      `  process CPU ${median(rs.map((r) => r.cpuMsPerVerify)).toFixed(2)} ms/verify` +
      `  (trials: ${rs.map((r) => r.rate.toFixed(1)).join(', ')})`,
  );
}
await pool.destroy();
process.exit(0);
