// Server-side figures read from /proc: CPU time (utime + stime) and memory.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = null;

function clockTicks() {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) consumed so far by `pid` (not its children). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: split after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** VmRSS and VmHWM (peak RSS) in MiB. */
export function memoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** Machine-wide CPU time counters from /proc/stat, in seconds. */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const hz = clockTicks();
  return {
    busy: (user + nice + system + irq + softirq) / hz,
    idle: (idle + iowait) / hz,
    steal: (steal ?? 0) / hz,
  };
}

/** What happened on the whole machine between two machineCpu() readings. */
export function machineCpuDelta(before, after, wallSeconds) {
  return {
    busyCores: (after.busy - before.busy) / wallSeconds,
    stealCores: (after.steal - before.steal) / wallSeconds,
  };
}
