// Secrets are never taken from the command line (they would show in `ps` and
// shell history): they come from the configuration, the environment, stdin
// (one per line, in the order the command asks for them) or a prompt that
// does not echo.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export class StdinLines {
  private lines: string[] | null = null;
  constructor(private readonly input: Readable) {}

  private async load(): Promise<string[]> {
    if (this.lines === null) {
      const chunks: Buffer[] = [];
      for await (const chunk of this.input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      const text = Buffer.concat(chunks).toString('utf8');
      this.lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
    }
    return this.lines;
  }

  /** The next line of stdin, or null when there is none. */
  async next(): Promise<string | null> {
    const lines = await this.load();
    return lines.length === 0 ? null : (lines.shift() as string);
  }
}

/** Asks on the terminal without echoing what is typed. */
export function promptHidden(
  question: string,
  input: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => void },
  output: Writable,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input, output, terminal: true });
    const mutable = rl as unknown as { _writeToOutput(s: string): void };
    let asked = false;
    mutable._writeToOutput = (s: string) => {
      if (!asked) {
        output.write(s);
        asked = true;
      } else if (s.includes('\n') || s.includes('\r')) {
        output.write('\n');
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new Error('cancelled'));
    });
  });
}
