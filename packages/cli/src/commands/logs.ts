import type { Command } from "commander";
import { addKubeFlags, connect, io, settings, type KubeFlags } from "./common.js";
import { collectLogs } from "../ops/logs.js";
import { versionInfo } from "../version.js";

export function registerLogs(program: Command): void {
  const cmd = program
    .command("logs")
    .description("write hub and worker logs, events and versions into a zip file")
    .option("-o, --output <file.zip>", "output file (default: tapline-logs-<time>.zip)");
  addKubeFlags(cmd).action(async (flags: KubeFlags & { output?: string }) => {
    const config = settings(flags);
    const file = flags.output ?? `tapline-logs-${new Date().toISOString().replace(/[:.]/g, "-")}.zip`;
    const entries = await collectLogs(connect(config), config.releaseNamespace, versionInfo(), file);
    io.info(`wrote ${file} (${entries.length} files)`);
  });
}
