// Configuration problems. One `ConfigError` carries every problem found, one
// per line of its message; each names the dotted key and where the value came
// from (a file, an environment variable or the command line).

export class ConfigError extends Error {
  /** Every problem, one sentence each (the message joins them with newlines). */
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[], options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    super(list.join('\n'), options);
    this.name = 'ConfigError';
    this.problems = list;
  }
}
