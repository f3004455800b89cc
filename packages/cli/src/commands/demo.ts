// `tapline demo`: the demo microservice system (demo/) watched by `tap --local` (README "Local demo").
import type { Command } from "commander";
import { parsePort } from "../flags.js";
import { io, settings } from "./common.js";
import { localSettings, parseDuration, serveUntilDone } from "./local.js";

interface DemoFlags {
  port?: string;
  proxyHost?: string;
  open?: boolean;
  tls?: boolean;
  loopback?: boolean;
  duration?: string;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run a small microservice system (HTTP, Redis, Kafka, TLS) with live traffic and watch it locally")
    .option("-p, --port <port>", "local port of the UI (default 8899)")
    .option("--proxy-host <host>", "local address the UI listens on (default 127.0.0.1)")
    .option("--no-open", "do not open the browser")
    .option("--no-tls", "do not capture TLS plaintext")
    .option("--loopback", "run on 127.77.0.x loopback addresses instead of network namespaces")
    .option("--duration <seconds>", "stop after this many seconds")
    .action(async (flags: DemoFlags, command: Command) => {
      const config = settings({}, (c) => {
        if (flags.port !== undefined) c.proxy.port = parsePort("--port", flags.port);
        if (flags.proxyHost !== undefined) c.proxy.host = flags.proxyHost;
        if (command.getOptionValueSource("open") === "cli") c.proxy.open = flags.open !== false;
        c.tap.tls = flags.tls !== false;
      });
      const durationMs = parseDuration(flags.duration);
      const { startDemo } = await import("../local/index.js");
      const demo = await startDemo({ ...localSettings(config), kubeconfig: false, loopback: !!flags.loopback });
      try {
        await serveUntilDone(demo.tap.url, config.proxy.open, durationMs, demo.ended);
      } finally {
        await demo.stop();
        io.info(demo.mode === "netns" ? "demo stopped; its network namespaces are removed" : "demo stopped");
      }
    });
}
