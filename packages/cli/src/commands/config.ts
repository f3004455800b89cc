import type { Command } from "commander";
import { configPath, defaultConfigYaml, writeDefaultConfig } from "../config/load.js";

export function registerConfig(program: Command): void {
  program
    .command("config")
    .description(`print the full default configuration (YAML); -r writes it to ${configPath()}`)
    .option("-r, --regenerate", "write the defaults to the config file (overwriting it)")
    .action((opts: { regenerate?: boolean }) => {
      if (opts.regenerate) process.stderr.write(`wrote ${writeDefaultConfig()}\n`);
      else process.stdout.write(defaultConfigYaml());
    });
}
