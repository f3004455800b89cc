import type { Command } from "commander";
import { addKubeFlags, connect, io, settings, type KubeFlags } from "./common.js";
import { clean } from "../ops/clean.js";

export function registerClean(program: Command): void {
  const cmd = program
    .command("clean")
    .description("remove everything Tapline created (labelled app.kubernetes.io/part-of=tapline) and wait until it is gone")
    .option("--timeout <seconds>", "how long to wait for deletion (default 120)", "120");
  addKubeFlags(cmd).action(async (flags: KubeFlags & { timeout: string }) => {
    const cluster = connect(settings(flags));
    await clean(cluster, { timeoutMs: Number(flags.timeout) * 1000, info: io.info });
  });
}
