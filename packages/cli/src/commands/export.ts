import type { Command } from "commander";
import { addKubeFlags, connect, io, settings, type KubeFlags } from "./common.js";
import { exportCapture, type ExportParams } from "../ops/export.js";
import { UsageError } from "../errors.js";

export function registerExport(program: Command): void {
  const cmd = program
    .command("export")
    .argument("<format>", "pcap or har")
    .description("download captured traffic from the hub as PCAP (Wireshark) or HAR")
    .requiredOption("-o, --output <file>", "output file")
    .option("--filter <expr>", "filter expression (SPEC §4), e.g. 'http and response.status >= 500'")
    .option("--since <duration>", "only the last DURATION, e.g. 30s, 10m, 2h")
    .option("--hub <url>", "hub URL (default: port-forward to the deployed hub)");
  addKubeFlags(cmd).action(async (format: string, flags: KubeFlags & { output: string; filter?: string; since?: string; hub?: string }) => {
    if (format !== "pcap" && format !== "har") throw new UsageError(`unknown export format '${format}': expected pcap or har`);
    if (flags.since !== undefined && !/^\d+(ms|s|m|h)$/.test(flags.since)) {
      throw new UsageError(`invalid --since '${flags.since}': expected a duration such as 30s, 10m or 2h`);
    }
    if (format === "har" && flags.since !== undefined) throw new UsageError("--since applies to pcap exports only");
    if (flags.hub !== undefined && !/^https?:\/\/[^/]+/.test(flags.hub)) throw new UsageError(`invalid --hub '${flags.hub}': expected http://host:port`);
    const params: ExportParams = { format, file: flags.output, filter: flags.filter, since: flags.since, hub: flags.hub?.replace(/\/+$/, "") };
    const config = settings(flags);
    const bytes = await exportCapture(params, () => connect(config), config.releaseNamespace);
    io.info(`wrote ${flags.output} (${bytes} bytes)`);
  });
}
