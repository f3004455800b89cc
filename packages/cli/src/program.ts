// The command tree. Each command lives in src/commands/<name>.ts: it parses its flags
// into a typed params object and calls a domain module. One line per command below.
// Command modules load on demand: importing them all (the Kubernetes client, the whole
// worker) cost ~1 s of start-up on every run, 17% of a 200 MB `tapline dissect`.
import { Command, CommanderError } from "commander";
import { cliVersion } from "./version.js";
import { UsageError } from "./errors.js";

type Register = (program: Command) => void;
const commands: Record<string, () => Promise<Register>> = {
  tap: async () => (await import("./commands/tap.js")).registerTap,
  clean: async () => (await import("./commands/clean.js")).registerClean,
  check: async () => (await import("./commands/check.js")).registerCheck,
  config: async () => (await import("./commands/config.js")).registerConfig,
  logs: async () => (await import("./commands/logs.js")).registerLogs,
  view: async () => (await import("./commands/view.js")).registerView,
  export: async () => (await import("./commands/export.js")).registerExport,
  completion: async () => (await import("./commands/completion.js")).registerCompletion,
  dissect: async () => (await import("./commands/dissect.js")).registerDissect,
  version: async () => (await import("./commands/version.js")).registerVersion,
  demo: async () => (await import("./commands/demo.js")).registerDemo,
};

/**
 * The program with every command, or with only `only` when it names one (what a run of that
 * command needs; completion and help need the whole tree).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command("tapline")
    .description("Capture, dissect and explore the traffic of Kubernetes pods (HTTP, HTTP/2, gRPC, Redis, Kafka, DNS)")
    .version(cliVersion(), "-v, --version", "print the CLI version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const names = only && only !== "completion" && Object.hasOwn(commands, only) ? [only] : Object.keys(commands);
  for (const register of await Promise.all(names.map((n) => commands[n]()))) register(program);
  // Subcommands inherit exit override so their usage errors map to exit code 2 below.
  for (const c of program.commands) c.exitOverride().showHelpAfterError("(run with --help for usage)");
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function runCli(argv: string[]): Promise<number> {
  const program = await buildProgram(argv[0]);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and --version exit with 0 through exitOverride; usage errors with 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`tapline: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
