import type { Command } from "commander";
import { bashCompletion, fishCompletion, zshCompletion, type CompletionModel } from "../ops/completion.js";
import { UsageError } from "../errors.js";

const SHELLS = ["bash", "zsh", "fish"];
/** Fixed first-argument values, by command. */
const CHOICES: Record<string, string[]> = { completion: SHELLS, export: ["pcap", "har"] };

function model(program: Command): CompletionModel {
  return {
    program: program.name(),
    commands: program.commands.map((c) => ({
      name: c.name(),
      description: c.description(),
      flags: [...c.options.map((o) => ({ short: o.short, long: o.long, description: o.description, takesValue: o.required || o.optional })), { long: "--help", description: "show help", takesValue: false }],
      choices: CHOICES[c.name()] ?? [],
    })),
  };
}

export function registerCompletion(program: Command): void {
  program
    .command("completion")
    .argument("<shell>", SHELLS.join(", "))
    .description("print a shell completion script (bash, zsh or fish)")
    .action((shell: string) => {
      const m = model(program);
      const script = shell === "bash" ? bashCompletion(m) : shell === "zsh" ? zshCompletion(m) : shell === "fish" ? fishCompletion(m) : undefined;
      if (!script) throw new UsageError(`unknown shell '${shell}': expected ${SHELLS.join(", ")}`);
      process.stdout.write(script);
    });
}
