import type { Command } from "commander";
import { addKubeFlags, connect, io, settings, untilInterrupted, type KubeFlags } from "./common.js";
import { findHubPod, forwardHub } from "../tap/run.js";
import { openBrowser } from "../ops/browser.js";
import { parsePort } from "../flags.js";
import { RuntimeFailure } from "../errors.js";
import type { TaplineConfig } from "../config/schema.js";
import { parseDuration, serveUntilDone } from "./local.js";

type ViewFlags = KubeFlags & { port?: string; proxyHost?: string; open?: boolean; duration?: string };

export function registerView(program: Command): void {
  const cmd = program
    .command("view")
    .argument("[FILE]", "a pcap or pcapng file to open in the UI, read-only (no cluster needed)")
    .description("open the UI of a running Tapline (port-forward), or of a capture file")
    .option("-p, --port <port>", "local port (default 8899)")
    .option("--proxy-host <host>", "local address (default 127.0.0.1)")
    .option("--no-open", "do not open the browser");
  cmd.option("--duration <seconds>", "with FILE: stop serving after this many seconds");
  addKubeFlags(cmd).action(async (file: string | undefined, flags: ViewFlags, command: Command) => {
    const config = settings(flags, (c) => {
      if (flags.port !== undefined) c.proxy.port = parsePort("--port", flags.port);
      if (flags.proxyHost !== undefined) c.proxy.host = flags.proxyHost;
      if (command.getOptionValueSource("open") === "cli") c.proxy.open = flags.open !== false;
    });
    if (file !== undefined) return runFileView(file, config, parseDuration(flags.duration));
    const cluster = connect(config);
    const pod = await findHubPod(cluster, config.releaseNamespace);
    if (!pod) throw new RuntimeFailure(`no ready hub in namespace "${config.releaseNamespace}"; run 'tapline tap' or 'tapline check'`);
    const fwd = await forwardHub(cluster, config, pod, io);
    io.out(`Tapline: ${fwd.url}`);
    if (config.proxy.open && !(await openBrowser(fwd.url))) io.info("no browser opener found; open the URL yourself");
    await untilInterrupted();
    await fwd.close();
  });
}

async function runFileView(file: string, config: TaplineConfig, durationMs: number | undefined): Promise<void> {
  const { startView } = await import("../local/index.js");
  const view = await startView({
    file, host: config.proxy.host, port: config.proxy.port, redact: config.tap.redact, defaultRedact: config.tap.defaultRedact, log: io.info,
  });
  io.info(`${file}: ${view.packets} packets, ${view.entries} entries`);
  try {
    await serveUntilDone(view.url, config.proxy.open, durationMs);
  } finally {
    await view.stop();
  }
}
