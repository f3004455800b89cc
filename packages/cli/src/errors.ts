// Two kinds of failure, two exit codes: a usage error (bad flag, bad regex, bad config
// value) exits 2 and names the input; a runtime failure (cluster, network, port) exits 1.
export class UsageError extends Error {
  readonly exitCode = 2;
}

export class RuntimeFailure extends Error {
  readonly exitCode = 1;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
