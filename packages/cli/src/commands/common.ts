// Flag plumbing shared by the command files: repeatable flags, kube connection flags,
// the settings tree (file < flags < --set), and the two output streams.
import type { Command } from "commander";
import { KubeClient } from "../kube/adapter.js";
import { applySet, loadConfig } from "../config/load.js";
import type { TaplineConfig } from "../config/schema.js";

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export interface KubeFlags {
  context?: string;
  kubeconfig?: string;
  set?: string[];
  releaseNamespace?: string;
}

export function addKubeFlags(cmd: Command): Command {
  return cmd
    .option("--context <name>", "kubeconfig context to use (default: the current context)")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("--release-namespace <ns>", "namespace Tapline is installed in (default: tapline)")
    .option("--set <path=value>", "override a setting of ~/.tapline/config.yaml (repeatable)", collect);
}

/** The settings after the config file and the connection flags; `--set` is applied by the caller last. */
export function settings(flags: KubeFlags, apply?: (c: TaplineConfig) => void): TaplineConfig {
  const config = loadConfig();
  if (flags.context !== undefined) config.kube.context = flags.context;
  if (flags.kubeconfig !== undefined) config.kube.kubeconfig = flags.kubeconfig;
  if (flags.releaseNamespace !== undefined) config.releaseNamespace = flags.releaseNamespace;
  apply?.(config);
  applySet(config, flags.set ?? []);
  return config;
}

export function connect(config: TaplineConfig): KubeClient {
  return KubeClient.load({ context: config.kube.context || undefined, kubeconfig: config.kube.kubeconfig || undefined });
}

export const io = {
  info: (line: string) => process.stderr.write(line + "\n"),
  out: (text: string) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
};

/** Resolves on the first Ctrl-C / SIGTERM. */
export function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
