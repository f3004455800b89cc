// What `tap --local`, `view FILE` and `demo` share: their flags, the settings they read, and
// serving the UI until Ctrl-C (or --duration). The domain modules (src/local/) are imported
// when a command runs, so `tapline --help` and `tapline dissect` never load the hub.
import type { Command } from "commander";
import { parseByteQuantity } from "../flags.js";
import { UsageError } from "../errors.js";
import { openBrowser } from "../ops/browser.js";
import type { TaplineConfig } from "../config/schema.js";
import { collect, io, untilInterrupted } from "./common.js";

export interface LocalFlags {
  local?: boolean;
  interface?: string[];
  names?: string;
  netns?: string;
  duration?: string;
}

export function addLocalFlags(cmd: Command): Command {
  return cmd
    .option("--local", "no cluster: capture on this machine's interfaces and serve the UI from here")
    .option("-i, --interface <iface>", "with --local: interface to capture on (repeatable; default any)", collect)
    .option("--names <file>", "with --local: name IP addresses (lines 'IP NAMESPACE/POD [SERVICE]')")
    .option("--netns <name>", "with --local: capture inside this network namespace")
    .option("--duration <seconds>", "with --local: stop after this many seconds");
}

export function parseDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) throw new UsageError(`invalid --duration '${value}': expected seconds > 0`);
  return n * 1000;
}

/** The local-mode settings shared by tap --local and demo. */
export function localSettings(config: TaplineConfig) {
  return {
    tls: config.tap.tls,
    mesh: config.tap.mesh,
    host: config.proxy.host,
    port: config.proxy.port,
    storageLimitBytes: parseByteQuantity("--storage-limit", config.tap.storageLimit),
    pcapLimitBytes: parseByteQuantity("--pcap-limit", config.tap.pcapLimit),
    redact: config.tap.redact,
    defaultRedact: config.tap.defaultRedact,
    kubeconfig: config.kube.kubeconfig || undefined,
    kubeContext: config.kube.context || undefined,
    log: io.info,
  };
}

/** Prints the URL, opens it unless told not to, and waits for Ctrl-C, --duration or `ended`. */
export async function serveUntilDone(url: string, open: boolean, durationMs: number | undefined, ended?: Promise<void>): Promise<void> {
  io.out(`Tapline is ready: ${url}`);
  io.info("Ctrl-C stops it");
  if (open && !(await openBrowser(url))) io.info("no browser opener found; open the URL yourself");
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    untilInterrupted(),
    ...(durationMs ? [new Promise<void>((r) => (timer = setTimeout(r, durationMs)))] : []),
    ...(ended ? [ended] : []),
  ]);
  clearTimeout(timer);
  io.info("stopping");
}

export async function runLocalTap(config: TaplineConfig, flags: LocalFlags): Promise<void> {
  const { startLocalTap, NameMap } = await import("../local/index.js");
  const durationMs = parseDuration(flags.duration);
  const interfaces = (flags.interface ?? []).flatMap((i) => i.split(",")).map((i) => i.trim()).filter(Boolean);
  const tap = await startLocalTap({
    ...localSettings(config),
    interfaces: interfaces.length ? interfaces : ["any"],
    names: flags.names ? NameMap.load(flags.names) : undefined,
    netns: flags.netns,
  });
  try {
    await serveUntilDone(tap.url, config.proxy.open, durationMs);
  } finally {
    await tap.stop();
  }
}
