/**
 * A command line that cannot be run as given: a missing or wrong option or argument. The CLI prints it as `usage: …`
 * with a pointer to the command's --help, and exits 2; nothing was changed.
 */
export class UsageError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.length === 1 ? `usage: ${problems[0]}` : `usage:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'UsageError';
    this.problems = problems;
  }
}
