// GET /api/pcap: the flows of the matching entries are asked from every connected worker (or the
// registered local PcapSource when none is), and their answers are merged into one time-ordered
// pcapng. Raw bytes by nature (SPEC §3): an explicit export, not a stored or streamed entry.
import fp from "fastify-plugin";
import type { FastifyInstance } from "fastify";
import { scanEntries } from "../query/index.js";
import { mergeCaptures } from "../pcap/index.js";
import type { PcapQuery } from "../pcap/index.js";
import { parseTime } from "./time.js";
import { BadRequestError } from "./errors.js";
import "./types.js";

export interface PcapPluginOptions {
  timeoutMs?: number;
}

/** Flows listed in one request at most; more entries than this export every flow in the window. */
const MAX_FLOWS = 5000;
const MAX_ENTRIES = 100_000;

async function pcapPlugin(app: FastifyInstance, opts: PcapPluginOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error("hub: pcap timeoutMs must be a positive integer");

  app.get<{ Querystring: { filter?: string; since?: string; until?: string } }>("/api/pcap", async (req, reply) => {
    const filter = app.hubInfo.compileFilter(req.query.filter ?? "");
    const sinceNs = parseTime(req.query.since, 0);
    const untilNs = parseTime(req.query.until, 0);
    if (untilNs && untilNs <= sinceNs) throw new BadRequestError("until must be after since");
    const flows = new Map<string, PcapQuery["flows"][number]>();
    let first = Number.MAX_SAFE_INTEGER;
    let last = 0;
    let all = false;
    for (const e of scanEntries(app.store, filter, sinceNs / 1000, untilNs ? untilNs / 1000 : Number.MAX_SAFE_INTEGER, MAX_ENTRIES)) {
      const f = { srcIp: e.src?.ip ?? "", srcPort: e.src?.port ?? 0, dstIp: e.dst?.ip ?? "", dstPort: e.dst?.port ?? 0 };
      flows.set(`${f.srcIp}|${f.srcPort}|${f.dstIp}|${f.dstPort}`, f);
      first = Math.min(first, e.timestampNs);
      last = Math.max(last, e.responseTimestampNs || e.timestampNs + (e.elapsedMs ?? 0) * 1e6);
      if (flows.size > MAX_FLOWS) all = true;
    }
    if (flows.size === 0) return reply.code(404).send({ error: "no entries match: nothing to export" });
    // The packets of an entry's flow start at its handshake, before the first request byte; a
    // second of margin either side of the matching entries catches the handshake and the close.
    const query: PcapQuery = {
      sinceNs: Math.max(sinceNs, first - 1e9),
      untilNs: untilNs || last + 1e9,
      flows: all ? [] : [...flows.values()],
    };
    let streams: Buffer[];
    let errors: Record<string, string> = {};
    if (app.workers.connected().length > 0) {
      const answers = await app.workers.requestPcap(query, timeoutMs);
      streams = [...answers.streams.values()];
      errors = Object.fromEntries(answers.errors);
    } else if (app.hubInfo.pcapSource) {
      streams = [await app.hubInfo.pcapSource.read(query)];
    } else {
      return reply.code(503).send({ error: "no worker connected and no local capture to export from" });
    }
    if (streams.length === 0) return reply.code(502).send({ error: "no worker answered with packets", workers: errors });
    // A partial export says so: in the file (the section comment Wireshark shows) and in a header.
    const missing = Object.entries(errors).map(([id, why]) => `${id}: ${why}`).join("; ");
    const merged = mergeCaptures(streams, missing ? `partial export: no packets from ${missing}` : "");
    if (missing) {
      req.log.warn({ errors }, "pcap export: some workers did not answer");
      reply.header("x-tapline-partial", encodeURIComponent(missing));
    }
    reply.header("content-type", "application/vnd.tcpdump.pcap");
    reply.header("content-disposition", 'attachment; filename="tapline.pcapng"');
    reply.header("x-tapline-packets", String(merged.packets));
    reply.header("x-tapline-worker-errors", String(Object.keys(errors).length));
    return reply.send(merged.data);
  });
}

export default fp(pcapPlugin, { name: "tapline-pcap", fastify: "5.x", dependencies: ["tapline-store", "tapline-state"] });
