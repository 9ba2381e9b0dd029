// Whether a stored argon2 hash was made with other parameters than the
// configured ones (so a successful login re-hashes the password): m, t and p
// read from the PHC string `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.

export interface Argon2Params {
  memory_kib: number;
  iterations: number;
  parallelism: number;
}

/** The algorithm and m, t, p of a PHC string; null when it is not an argon2 hash. */
export function argon2ParamsOf(phc: string): (Argon2Params & { algorithm: string }) | null {
  const m = /^\$(argon2(?:id|i|d))\$(?:v=\d+\$)?([^$]+)\$/.exec(phc);
  if (m === null) return null;
  const params = new Map<string, number>();
  for (const pair of m[2].split(',')) {
    const [key, value] = pair.split('=');
    if (key === undefined || value === undefined || !/^\d+$/.test(value)) return null;
    params.set(key, Number(value));
  }
  const memory = params.get('m');
  const time = params.get('t');
  const lanes = params.get('p');
  if (memory === undefined || time === undefined || lanes === undefined) return null;
  return { algorithm: m[1], memory_kib: memory, iterations: time, parallelism: lanes };
}

/** True when `phc` is not an argon2id hash with exactly the `wanted` parameters. */
export function needsRehash(phc: string, wanted: Argon2Params): boolean {
  const got = argon2ParamsOf(phc);
  return (
    got === null ||
    got.algorithm !== 'argon2id' ||
    got.memory_kib !== wanted.memory_kib ||
    got.iterations !== wanted.iterations ||
    got.parallelism !== wanted.parallelism
  );
}
