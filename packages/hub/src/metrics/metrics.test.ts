// The per-edge families must read exactly as prom-client's own Counter and Histogram children
// would have written them for the same entries.
import { describe, expect, it } from "vitest";
import * as fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { Entry, Protocol, protocolName, summarizeEntry } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { columnValues } from "../filter/columns.js";
import { endpointNode } from "../servicemap/index.js";
import { HubMetrics } from "./metrics.js";

const EDGE_FAMILIES = ["tapline_requests_total", "tapline_request_errors_total", "tapline_request_duration_seconds"];

/** The edge metrics as the hub kept them through prom-client before (one child per edge, counters moved per batch). */
class Reference {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: "tapline_requests_total", help: "Entries per service map edge", labelNames: ["src", "dst", "protocol"], registers: [this.registry] });
  private readonly errors = new Counter({ name: "tapline_request_errors_total", help: "Error entries per edge", labelNames: ["src", "dst", "protocol"], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: "tapline_request_duration_seconds", help: "Entry latency per edge", labelNames: ["src", "dst", "protocol"], registers: [this.registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });

  observe(entries: Entry[]): void {
    const touched = new Map<string, { labels: Record<string, string>; requests: number; errors: number }>();
    for (const e of entries) {
      const src = endpointNode({ ip: e.src?.ip ?? "", pod: e.src?.pod ?? "", namespace: e.src?.namespace ?? "", service: e.src?.service ?? "" }).id!;
      const dst = endpointNode({ ip: e.dst?.ip ?? "", pod: e.dst?.pod ?? "", namespace: e.dst?.namespace ?? "", service: e.dst?.service ?? "" }).id!;
      const labels = { src, dst, protocol: protocolName(e.protocol) };
      const key = JSON.stringify(labels);
      let t = touched.get(key);
      if (!t) touched.set(key, (t = { labels, requests: 0, errors: 0 }));
      t.requests++;
      if (summarizeEntry(e).isError) t.errors++;
      this.latency.labels(labels).observe((e.elapsedMs ?? 0) / 1000);
    }
    for (const t of touched.values()) {
      this.requests.labels(t.labels).inc(t.requests);
      if (t.errors) this.errors.labels(t.labels).inc(t.errors);
    }
  }
}

function edgeBlocks(text: string): string {
  return text.trim().split("\n\n").filter((b) => EDGE_FAMILIES.some((n) => b.startsWith(`# HELP ${n} `))).join("\n\n");
}

const noSources = { counters: () => ({ entries: 1 }), storage: () => ({ entries: 2 }) };

describe("hub metrics", () => {
  it("property: edge counters and latency histograms read as prom-client's children", async () => {
    const endpoint = fc.record({
      ip: fc.constantFrom("10.0.0.1", "10.0.0.2", ""),
      pod: fc.constantFrom("a", "b", ""),
      namespace: fc.constantFrom("ns", "other"),
      service: fc.constantFrom("svc", ""),
    });
    // Bucket bounds exactly, between them, beyond the last, and zero.
    const elapsed = fc.oneof(fc.constantFrom(0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 10000.5, 60000), fc.double({ min: 0, max: 20000, noNaN: true }));
    const entry = fc.record({ src: endpoint, dst: endpoint, protocol: fc.constantFrom(Protocol.HTTP, Protocol.REDIS, Protocol.GRPC), elapsedMs: elapsed, status: fc.constantFrom(200, 404, 503) })
      .map(({ status, ...e }, ): EntryInit => ({ ...e, id: "x", httpRequest: { method: "GET", path: "/" }, httpResponse: { status } }));
    const batches = fc.array(fc.array(entry, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 6 });
    await fc.assert(fc.asyncProperty(batches, async (bs) => {
      const hub = new HubMetrics(noSources);
      const ref = new Reference();
      for (const b of bs) {
        const entries = b.map((e) => Entry.fromObject(e));
        hub.observe(entries, entries.map((e) => columnValues(e)));
        ref.observe(entries);
      }
      expect(edgeBlocks(await hub.text())).toBe(edgeBlocks(await ref.registry.metrics()));
    }), { numRuns: 300 });
  });

  it("keeps apart endpoints whose raw fields hash alike", async () => {
    // 10.88.177.3 and 10.126.10.0 collide in observe()'s 32-bit key hash (the rest of the fields empty, HTTP).
    const entries = ["10.88.177.3", "10.126.10.0", "10.88.177.3"].map((ip) => Entry.fromObject({ id: ip, src: { ip }, dst: {}, protocol: Protocol.HTTP, elapsedMs: 1 }));
    const hub = new HubMetrics(noSources);
    const ref = new Reference();
    hub.observe(entries, entries.map((e) => columnValues(e)));
    ref.observe(entries);
    const text = edgeBlocks(await hub.text());
    expect(text).toContain('tapline_requests_total{src="10.88.177.3",dst="unknown",protocol="http"} 2');
    expect(text).toContain('tapline_requests_total{src="10.126.10.0",dst="unknown",protocol="http"} 1');
    expect(text).toBe(edgeBlocks(await ref.registry.metrics()));
  });

  it("keeps the families and their order; a non-finite latency is counted as a request, not observed", async () => {
    const hub = new HubMetrics(noSources);
    hub.observe([Entry.fromObject({ id: "a", src: { pod: "p", namespace: "n" }, dst: { ip: "1.2.3.4" }, protocol: Protocol.HTTP, elapsedMs: Number.NaN })]);
    const text = await hub.text();
    expect(text.match(/^# TYPE .*$/gm)).toEqual([
      "# TYPE tapline_hub_ingest_batches_total counter", "# TYPE tapline_hub_ingest_rejected_connections_total counter",
      "# TYPE tapline_hub_ingest_bad_messages_total counter", "# TYPE tapline_requests_total counter",
      "# TYPE tapline_request_errors_total counter", "# TYPE tapline_request_duration_seconds histogram",
      "# TYPE tapline_hub_ingest_entries gauge", "# TYPE tapline_hub_storage gauge",
    ]);
    expect(text).toContain('tapline_requests_total{src="n/p",dst="1.2.3.4",protocol="http"} 1');
    expect(text).not.toContain("tapline_request_duration_seconds_count");
  });
});
