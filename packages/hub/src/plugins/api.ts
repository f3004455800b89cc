// The HTTP API: entries (paged), one entry, live stream, service map, HAR, health, workers,
// tap config and Prometheus metrics. Filters compile once per request; a FilterSyntaxError
// becomes a 400 with its position in the hub's one error handler (app.ts).
import fp from "fastify-plugin";
import type { FastifyInstance } from "fastify";
import { Entry, SCHEMA_VERSION, TapConfig, protocolName } from "@tapline/protocol";
import { queryEntries, scanEntries } from "../query/index.js";
import { entryJson } from "../stream/index.js";
import { MAP_COLUMNS, ServiceMapBuilder } from "../servicemap/index.js";
import type { MapRow } from "../servicemap/index.js";
import { harEntry, harLog, isHttpEntry } from "../har/index.js";
import { parseTime } from "./time.js";
import { BadRequestError } from "./errors.js";
import "./types.js";


const MAX_LIMIT = 1000;
const HAR_MAX = 10_000;

interface FilterQuery { filter?: string; limit?: string; before?: string; since?: string; until?: string }

function intParam(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new BadRequestError(`${name} must be an integer in [${min}, ${max}]`);
  return n;
}

async function apiPlugin(app: FastifyInstance): Promise<void> {
  const { store, workers, live, hubInfo } = app;
  const compile = (text: string | undefined) => hubInfo.compileFilter(text ?? "");

  app.get<{ Querystring: FilterQuery }>("/api/entries", async (req) => {
    const filter = compile(req.query.filter);
    const limit = intParam(req.query.limit, "limit", 100, 1, MAX_LIMIT);
    const before = intParam(req.query.before, "before", 0, 0, Number.MAX_SAFE_INTEGER);
    const page = queryEntries(store, filter, before, limit);
    return { entries: page.entries.map(entryJson), next: page.next };
  });

  app.get<{ Params: { id: string } }>("/api/entries/:id", async (req, reply) => {
    const data = store.get(req.params.id);
    if (!data) return reply.code(404).send({ error: `no entry ${req.params.id}` });
    return entryJson(Entry.decode(data));
  });

  app.get<{ Querystring: FilterQuery }>("/api/stream", { websocket: true }, (socket, req) => {
    let filter;
    try {
      filter = compile(req.query.filter);
    } catch (err) {
      const e = err as Error & { position?: number };
      socket.send(JSON.stringify({ type: "error", error: e.message, position: e.position ?? null }));
      socket.close(1008, "invalid filter");
      return;
    }
    const remove = live.add(socket, filter);
    socket.on("close", remove);
  });

  app.get<{ Querystring: FilterQuery }>("/api/servicemap", async (req) => {
    const filter = compile(req.query.filter);
    const sinceUs = parseTime(req.query.since, 0) / 1000;
    const untilUs = parseTime(req.query.until, 0) / 1000 || Number.MAX_SAFE_INTEGER;
    const map = new ServiceMapBuilder();
    if (filter.sql.exact) {
      for (const row of store.scan<MapRow>(MAP_COLUMNS, filter.sql, sinceUs, untilUs)) map.add(row);
    } else {
      for (const row of store.scan<MapRow & { data: Buffer }>(`${MAP_COLUMNS}, data`, filter.sql, sinceUs, untilUs)) {
        if (filter.predicate(Entry.decode(row.data))) map.add(row);
      }
    }
    const { nodes, edges } = map.build();
    return { nodes, edges: edges.map((e) => ({ ...e, protocol: protocolName(e.protocol) })) };
  });

  app.get<{ Querystring: FilterQuery }>("/api/har", async (req, reply) => {
    const filter = compile(req.query.filter);
    const sinceUs = parseTime(req.query.since, 0) / 1000;
    const untilUs = parseTime(req.query.until, 0) / 1000 || Number.MAX_SAFE_INTEGER;
    const entries = [];
    for (const e of scanEntries(store, filter, sinceUs, untilUs, HAR_MAX * 4)) {
      if (!isHttpEntry(e)) continue;
      entries.push(harEntry(e));
      if (entries.length >= HAR_MAX) break;
    }
    reply.header("content-disposition", 'attachment; filename="tapline.har"');
    return harLog(hubInfo.version, entries);
  });

  app.get("/api/health", async () => {
    const storage = store.stats();
    return {
      status: storage.diskFull || storage.lastError ? "degraded" : "ok",
      version: hubInfo.version,
      schemaVersion: SCHEMA_VERSION,
      uptimeSeconds: Math.round((Date.now() - hubInfo.startedAt) / 1000),
      storage,
      counts: { ...app.pipeline.counters, workersConnected: workers.connected().length, streamClients: live.size, streamDropped: live.dropped },
    };
  });

  app.get("/api/workers", async () => ({ workers: workers.list() }));

  app.get("/api/tap", async () => TapConfig.toObject(TapConfig.fromObject(workers.tapConfig), { defaults: true }));

  app.put<{ Body: unknown }>("/api/tap", async (req) => {
    const body = req.body;
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new BadRequestError("body must be a TapConfig JSON object");
    const problem = TapConfig.verify(body as Record<string, unknown>);
    if (problem) throw new BadRequestError(`invalid TapConfig: ${problem}`);
    const tap = TapConfig.fromObject(body as Record<string, unknown>);
    if (tap.podRegex) {
      try {
        new RegExp(tap.podRegex);
      } catch (err) {
        throw new BadRequestError(`invalid podRegex: ${(err as Error).message}`);
      }
    }
    workers.setTap(tap);
    return { tap: TapConfig.toObject(tap, { defaults: true }), workers: workers.connected().length };
  });

  app.get("/metrics", async (_req, reply) => {
    reply.type(app.hubMetrics.contentType);
    return app.hubMetrics.text();
  });
}

export default fp(apiPlugin, { name: "tapline-api", fastify: "5.x", dependencies: ["tapline-store", "tapline-state"] });
