#!/usr/bin/env node
// `node packages/hub/dist/bin.js --port 8899 --token X ...`: the hub for the container and local mode.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { startHub } from "./app.js";
import { parseSize } from "./size.js";
import { readTapDir, watchTapDir } from "./tap/index.js";
import type { TapConfigInit } from "@tapline/protocol";

/** Where the `tapline-tap` ConfigMap is mounted (the CLI's TAP_CONFIG_MOUNT). */
const DEFAULT_TAP_DIR = "/etc/tapline/tap";

const USAGE = `usage: tapline-hub --token TOKEN [--host 127.0.0.1] [--port 8899] [--ingest-port N]
  [--storage PATH|:memory:] [--storage-limit 500Mi] [--redact KEY]... [--redact-value REGEX]...
  [--no-default-redact] [--ui-dir DIR]   (TAPLINE_TOKEN may hold the token)
The tap target is read from TAPLINE_TAP_CONFIG (default ${DEFAULT_TAP_DIR}) when it exists, and followed.`;

function main(): Promise<void> | void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        token: { type: "string" }, host: { type: "string" }, port: { type: "string" }, "ingest-port": { type: "string" },
        storage: { type: "string" }, "storage-limit": { type: "string" }, redact: { type: "string", multiple: true },
        "redact-value": { type: "string", multiple: true }, "no-default-redact": { type: "boolean" }, "ui-dir": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) return void console.log(USAGE);
  const token = values.token ?? process.env.TAPLINE_TOKEN;
  if (!token) {
    console.error(`a worker token is required (--token or TAPLINE_TOKEN)\n${USAGE}`);
    process.exit(2);
  }
  const port = (s: string | undefined, name: string) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > 65535) { console.error(`--${name} must be a port number`); process.exit(2); }
    return n;
  };
  let limit: number;
  try {
    limit = parseSize(values["storage-limit"] ?? "500Mi");
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const tapDir = process.env.TAPLINE_TAP_CONFIG || DEFAULT_TAP_DIR;
  let tap: TapConfigInit | undefined;
  try {
    tap = readTapDir(tapDir);
  } catch (err) {
    // A bad file must not keep the hub down: it starts without a target, as before a first `tap`.
    console.error(`hub: tap target not read: ${(err as Error).message}`);
  }
  return startHub({
    token, host: values.host, port: port(values.port, "port") ?? 8899, ingestPort: port(values["ingest-port"], "ingest-port"),
    storagePath: values.storage ?? ":memory:", storageLimitBytes: limit,
    redact: { defaults: !values["no-default-redact"], keys: values.redact ?? [], valuePatterns: values["redact-value"] ?? [] },
    uiDir: values["ui-dir"], logger: { level: "info" }, tap,
  }).then((hub) => {
    const log = hub.app.log;
    if (tap) log.info({ dir: tapDir, tap }, "tap target read");
    // Pushed to the workers as PUT /api/tap does; the watch ends with the process.
    const tapWatch = tap === undefined && !existsSync(tapDir) ? undefined : watchTapDir(tapDir, tap, (next) => {
      log.info({ dir: tapDir, tap: next }, "tap target changed");
      hub.app.workers.setTap(next);
    }, (err) => log.warn({ dir: tapDir }, `tap target not re-read: ${err.message}`));
    const stop = () => void (tapWatch?.close(), hub.close()).then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    console.log(`tapline hub on ${hub.url} (workers: ${hub.ingestUrl})`);
  }, (err: Error) => {
    console.error(`hub: ${err.message}`);
    process.exit(1);
  });
}

void main();
