import type { Command } from "commander";
import { versionInfo } from "../version.js";

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print the versions of the CLI, the wire schema and the git commit")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const v = versionInfo();
      if (opts.json) process.stdout.write(JSON.stringify(v) + "\n");
      else process.stdout.write(`tapline ${v.cli}\nschema  ${v.schema}\ncommit  ${v.commit}\nnode    ${v.node}\n`);
    });
}
