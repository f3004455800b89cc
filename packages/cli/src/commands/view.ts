import type { Command } from "commander";
import { addKubeFlags, connect, io, settings, untilInterrupted, type KubeFlags } from "./common.js";
import { findHubPod, forwardHub } from "../tap/run.js";
import { openBrowser } from "../ops/browser.js";
import { parsePort } from "../flags.js";
import { RuntimeFailure } from "../errors.js";

export function registerView(program: Command): void {
  const cmd = program
    .command("view")
    .description("port-forward to a running Tapline and open its UI")
    .option("-p, --port <port>", "local port (default 8899)")
    .option("--proxy-host <host>", "local address (default 127.0.0.1)")
    .option("--no-open", "do not open the browser");
  addKubeFlags(cmd).action(async (flags: KubeFlags & { port?: string; proxyHost?: string; open?: boolean }, command: Command) => {
    const config = settings(flags, (c) => {
      if (flags.port !== undefined) c.proxy.port = parsePort("--port", flags.port);
      if (flags.proxyHost !== undefined) c.proxy.host = flags.proxyHost;
      if (command.getOptionValueSource("open") === "cli") c.proxy.open = flags.open !== false;
    });
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
