// The hub: createHub builds the fastify app from its plugins; startHub listens (127.0.0.1:8899 by
// default, SPEC §5 "Secure") with the worker ingest on the same port or a separate one.
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import fastifyWebsocket from "@fastify/websocket";
import type { TapConfigInit } from "@tapline/protocol";
import { FilterSyntaxError } from "./filter/errors.js";
import { apiPlugin, ingestPlugin, pcapPlugin, statePlugin, storePlugin, uiPlugin } from "./plugins/index.js";
import type { RedactOptions } from "./redact/index.js";
import type { LiveOptions } from "./stream/index.js";
import type { PcapSource } from "./pcap/index.js";
import { compileFilter } from "./filter/index.js";
import type { FilterCompiler } from "./query/index.js";

export const HUB_VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export interface HubOptions {
  /** Shared secret workers present in their WorkerHello. */
  token: string;
  /** SQLite file, or ":memory:". */
  storagePath: string;
  storageLimitBytes: number;
  redact: RedactOptions;
  /** Directory of the built UI (index.html); no UI routes when absent. */
  uiDir?: string;
  /** Initial tap target pushed to workers. */
  tap?: TapConfigInit;
  /** Serve the worker ingest on this app (false when startHub puts it on its own port). */
  ingest?: boolean;
  compileFilter?: FilterCompiler;
  /** Where /api/pcap reads when no worker is connected (local and view modes). */
  pcapSource?: PcapSource;
  live?: Partial<LiveOptions>;
  pcapTimeoutMs?: number;
  helloTimeoutMs?: number;
  logger?: FastifyServerOptions["logger"];
}

const MAX_WS_MESSAGE = 64 << 20;

export async function createHub(options: HubOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1 << 20 });
  app.decorate("hubInfo", {
    version: HUB_VERSION, startedAt: Date.now(), compileFilter: options.compileFilter ?? compileFilter, pcapSource: options.pcapSource,
  });
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof FilterSyntaxError) return reply.code(400).send({ error: err.message, position: err.position, end: err.end });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, "request failed");
    return reply.code(status).send({ error: status >= 500 ? "internal error" : (err as Error).message });
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: MAX_WS_MESSAGE } });
  await app.register(storePlugin, { storagePath: options.storagePath, storageLimitBytes: options.storageLimitBytes, redact: options.redact });
  await app.register(statePlugin, { tap: options.tap, live: options.live });
  if (options.ingest !== false) await app.register(ingestPlugin, { token: options.token, helloTimeoutMs: options.helloTimeoutMs });
  await app.register(apiPlugin);
  await app.register(pcapPlugin, { timeoutMs: options.pcapTimeoutMs });
  if (options.uiDir) await app.register(uiPlugin, { uiDir: options.uiDir });
  return app;
}

export interface StartHubOptions extends Omit<HubOptions, "ingest"> {
  host?: string;
  port?: number;
  /** Serve the worker ingest on its own port (same host); by default it shares `port`. */
  ingestPort?: number;
  ingestHost?: string;
}

export interface RunningHub {
  app: FastifyInstance;
  url: string;
  ingestUrl: string;
  close(): Promise<void>;
}

export async function startHub(options: StartHubOptions): Promise<RunningHub> {
  const host = options.host ?? "127.0.0.1";
  const separate = options.ingestPort !== undefined;
  const app = await createHub({ ...options, ingest: !separate });
  const address = await app.listen({ host, port: options.port ?? 8899 });
  let ingestApp: FastifyInstance | undefined;
  let ingestUrl = `${address.replace(/^http/, "ws")}/ws/worker`;
  if (separate) {
    // A second server for workers only; it shares the main app's state through its decorations.
    ingestApp = Fastify({ logger: options.logger ?? false });
    for (const name of ["pipeline", "workers", "store", "hubMetrics", "hubInfo"] as const) ingestApp.decorate(name, app[name] as never);
    await ingestApp.register(fastifyWebsocket, { options: { maxPayload: MAX_WS_MESSAGE } });
    await ingestApp.register(ingestPlugin, { token: options.token, helloTimeoutMs: options.helloTimeoutMs });
    const ingestAddress = await ingestApp.listen({ host: options.ingestHost ?? host, port: options.ingestPort });
    ingestUrl = `${ingestAddress.replace(/^http/, "ws")}/ws/worker`;
  }
  return {
    app, url: address, ingestUrl,
    async close() {
      if (ingestApp) await ingestApp.close();
      await app.close();
    },
  };
}
