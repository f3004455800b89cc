// Worker registry, live stream and metrics: the hub's shared in-memory state.
import fp from "fastify-plugin";
import type { FastifyInstance } from "fastify";
import type { TapConfigInit } from "@tapline/protocol";
import { WorkerRegistry } from "../workers/index.js";
import { LiveStream } from "../stream/index.js";
import type { LiveOptions } from "../stream/index.js";
import { HubMetrics } from "../metrics/index.js";
import "./types.js";

export interface StatePluginOptions {
  tap?: TapConfigInit;
  live?: Partial<LiveOptions>;
}

async function statePlugin(app: FastifyInstance, opts: StatePluginOptions): Promise<void> {
  const live: LiveOptions = { queueLimit: 2000, maxBufferedBytes: 4 << 20, flushIntervalMs: 100, ...opts.live };
  for (const [k, v] of Object.entries(live)) if (!Number.isInteger(v) || v <= 0) throw new Error(`hub: live.${k} must be a positive integer`);
  const stream = new LiveStream(live);
  const metrics = new HubMetrics({
    counters: () => ({ ...app.pipeline.counters, streamSent: stream.sent, streamDropped: stream.dropped }),
    storage: () => {
      const s = app.store.stats();
      return { usedBytes: s.usedBytes, fileBytes: s.fileBytes, limitBytes: s.limitBytes, entries: s.entries, evicted: s.evicted, droppedOnError: s.droppedOnError };
    },
  });
  app.decorate("workers", new WorkerRegistry(opts.tap ?? {}));
  app.decorate("live", stream);
  app.decorate("hubMetrics", metrics);
  app.pipeline.onStored((entries, columns) => {
    stream.publish(entries);
    metrics.observe(entries, columns);
  });
  app.addHook("onClose", async () => stream.close());
}

export default fp(statePlugin, { name: "tapline-state", fastify: "5.x", dependencies: ["tapline-store"] });
