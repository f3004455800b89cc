// The command tree. Each command lives in src/commands/<name>.ts: it parses its flags
// into a typed params object and calls a domain module. One line per command below.
import { Command, CommanderError } from "commander";
import { registerVersion } from "./commands/version.js";
import { registerTap } from "./commands/tap.js";
import { registerClean } from "./commands/clean.js";
import { registerCheck } from "./commands/check.js";
import { registerConfig } from "./commands/config.js";
import { registerLogs } from "./commands/logs.js";
import { registerView } from "./commands/view.js";
import { registerExport } from "./commands/export.js";
import { registerCompletion } from "./commands/completion.js";
import { registerDissect } from "./commands/dissect.js";
import { cliVersion } from "./version.js";
import { UsageError } from "./errors.js";

export function buildProgram(): Command {
  const program = new Command("tapline")
    .description("Capture, dissect and explore the traffic of Kubernetes pods (HTTP, HTTP/2, gRPC, Redis, Kafka, DNS)")
    .version(cliVersion(), "-v, --version", "print the CLI version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerTap(program);
  registerClean(program);
  registerCheck(program);
  registerConfig(program);
  registerLogs(program);
  registerView(program);
  registerExport(program);
  registerCompletion(program);
  registerDissect(program);
  registerVersion(program);
  // Subcommands inherit exit override so their usage errors map to exit code 2 below.
  for (const c of program.commands) c.exitOverride().showHelpAfterError("(run with --help for usage)");
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
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
