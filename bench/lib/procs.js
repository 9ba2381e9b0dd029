// Child processes of the harness: every one is registered here and killed by
// pid when the harness exits, whatever the reason (normal end, exception,
// Ctrl-C). Nothing is ever killed by name.
import { spawn } from 'node:child_process';

const live = new Map(); // pid → ChildProcess

/** spawn() that remembers the child until it exits. */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, options);
  if (child.pid !== undefined) {
    live.set(child.pid, child);
    child.once('exit', () => live.delete(child.pid));
  }
  return child;
}

/** Last-resort cleanup (synchronous: also usable from process.on('exit')). */
export function killAllChildren() {
  for (const [pid] of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    child.kill('SIGTERM');
  } catch {
    /* gone */
  }
  const timer = setTimeout(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Keeps the last `max` characters of a stream, for error messages. */
export function tailOf(stream, max = 4000) {
  const state = { text: '' };
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk) => {
    state.text = (state.text + chunk).slice(-max);
  });
  return state;
}

/**
 * Runs `node script '<json>'` and resolves with the JSON printed on its last
 * stdout line. `onSpawn(child)` runs right after spawning (e.g. to allow an
 * early SIGTERM).
 */
export function runJsonChild(script, arg, { onSpawn, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [script, arg], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      out += c;
    });
    const err = tailOf(child.stderr);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code ?? signal}: ${err.text.trim()}`));
        return;
      }
      const line = out.trim().split('\n').pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${script} printed no JSON: ${out.slice(-500)}`));
      }
    });
    onSpawn?.(child);
  });
}
