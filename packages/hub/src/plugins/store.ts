// Redaction, storage and the ingest pipeline that joins them: the one path entries take to disk.
import fp from "fastify-plugin";
import type { FastifyInstance } from "fastify";
import { Redactor } from "../redact/index.js";
import type { RedactOptions } from "../redact/index.js";
import { EntryStore } from "../store/index.js";
import { IngestPipeline } from "../ingest/index.js";
import "./types.js";

export interface StorePluginOptions {
  storagePath: string;
  storageLimitBytes: number;
  redact: RedactOptions;
}

async function storePlugin(app: FastifyInstance, opts: StorePluginOptions): Promise<void> {
  const r = opts.redact;
  if (!r || typeof r.defaults !== "boolean" || !Array.isArray(r.keys) || !Array.isArray(r.valuePatterns)) {
    throw new Error("hub: redact options must be {defaults: boolean, keys: string[], valuePatterns: string[]}");
  }
  const redactor = new Redactor(r);
  const store = new EntryStore({ path: opts.storagePath, limitBytes: opts.storageLimitBytes });
  app.decorate("redactor", redactor);
  app.decorate("store", store);
  const pipeline = new IngestPipeline(redactor, store);
  app.decorate("pipeline", pipeline);
  // The group still waiting for its commit goes in before the file closes.
  app.addHook("onClose", async () => {
    pipeline.flush();
    store.close();
  });
}

export default fp(storePlugin, { name: "tapline-store", fastify: "5.x" });
