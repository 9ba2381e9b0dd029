// The threads of this process, as Linux shows them (/proc/self/task): name and nice value.
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadInfo {
  tid: number;
  name: string;
  nice: number;
}

export function ownThreads(): ThreadInfo[] {
  const out: ThreadInfo[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // Fields after "(comm) ": state is field 3, nice field 19.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ tid: Number(tid), name, nice: Number(fields[16]) });
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}
