import type { Command } from "commander";
import { addKubeFlags, connect, settings, type KubeFlags } from "./common.js";
import { check } from "../ops/check.js";
import { RuntimeFailure } from "../errors.js";

export function registerCheck(program: Command): void {
  const cmd = program
    .command("check")
    .description("check kubeconfig, API reachability, permissions, hub/worker readiness and capture health");
  addKubeFlags(cmd).action(async (flags: KubeFlags) => {
    const config = settings(flags);
    const errors = await check(() => connect(config), config.releaseNamespace, {
      ok: (l) => process.stdout.write(`✔ ${l}\n`),
      fail: (l) => process.stdout.write(`✘ ${l}\n`),
    });
    if (errors.length) throw new RuntimeFailure(`check found ${errors.length} problem${errors.length > 1 ? "s" : ""}`);
  });
}
