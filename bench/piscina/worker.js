// The piscina side of bench/hash-pool-vs-piscina.js: one argon2id verify per task.
import { verifySync } from '@node-rs/argon2';

export default function verify({ hash, password }) {
  return verifySync(hash, password);
}
