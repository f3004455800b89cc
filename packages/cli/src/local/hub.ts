// The hub of local mode and of `view`, in this process: the same fastify app, API, redaction and
// UI as in a cluster, listening on the proxy host/port (127.0.0.1:8899 by default).
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { PcapSource, RedactOptions, RunningHub } from "@tapline/hub";
import { RuntimeFailure } from "../errors.js";

/** Where `pnpm -C packages/ui build` puts the UI, seen from src/local or dist/local. */
export const CHECKOUT_UI_DIR = fileURLToPath(new URL("../../../ui/dist/", import.meta.url));

export interface LocalHubOptions {
  host: string;
  port: number;
  storagePath: string;
  storageLimitBytes: number;
  /** `--redact` values: names, or `/regex/` for value patterns (SPEC §3). */
  redact: string[];
  defaultRedact: boolean;
  pcapSource?: PcapSource;
  uiDir?: string;
  log(line: string): void;
}

export interface LocalHub {
  hub: RunningHub;
  token: string;
}

export function redactOptions(redact: string[], defaults: boolean): RedactOptions {
  const keys: string[] = [];
  const valuePatterns: string[] = [];
  for (const r of redact) {
    const m = /^\/(.*)\/$/.exec(r);
    if (m) valuePatterns.push(m[1]);
    else keys.push(r);
  }
  return { defaults, keys, valuePatterns };
}

export async function startLocalHub(o: LocalHubOptions): Promise<LocalHub> {
  // Loaded here, not at startup: fastify and SQLite are only needed by the commands that serve.
  const { startHub } = await import("@tapline/hub");
  const uiDir = o.uiDir ?? CHECKOUT_UI_DIR;
  const haveUi = existsSync(`${uiDir}/index.html`);
  if (!haveUi) o.log(`no built UI at ${uiDir} (run 'pnpm -C packages/ui build'); serving the API only`);
  const token = randomBytes(24).toString("base64url");
  try {
    const hub = await startHub({
      host: o.host,
      port: o.port,
      token,
      storagePath: o.storagePath,
      storageLimitBytes: o.storageLimitBytes,
      redact: redactOptions(o.redact, o.defaultRedact),
      uiDir: haveUi ? uiDir : undefined,
      pcapSource: o.pcapSource,
    });
    return { hub, token };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new RuntimeFailure(`${o.host}:${o.port} is in use (another Tapline?); choose another with --port`);
    if (code === "EADDRNOTAVAIL") throw new RuntimeFailure(`cannot listen on ${o.host}: no such local address (--proxy-host)`);
    throw err;
  }
}

/** The URL a user opens: "localhost" reads better than 127.0.0.1 and resolves to it. */
export function displayUrl(host: string, port: number): string {
  const h = host === "127.0.0.1" || host === "::1" || host === "0.0.0.0" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
