import { describe, expect, it } from "vitest";
import * as fc from "fast-check";
import { Entry, EntryStatus, Protocol, ServiceMap, entryToJson } from "@tapline/protocol";
import { LiveBuffer } from "./liveBuffer.js";
import { rowFromJson, toRow } from "./entryRow.js";
import { buildGraph } from "./serviceMapGraph.js";
import { viewBody } from "./body.js";
import { addClause, readViewState, rememberFilter, writeViewState } from "./urlState.js";

const entry = (i: number, extra: Record<string, unknown> = {}) =>
  Entry.fromObject({
    id: `w-${i}`,
    timestampNs: 1_763_000_000_000_000_000 + i * 1_000_000,
    protocol: Protocol.HTTP,
    src: { ip: "10.0.0.1", port: 40000 + i, pod: "front-1", namespace: "shop" },
    dst: { ip: "10.0.0.2", port: 8080 },
    httpRequest: { method: "GET", path: `/items/${i}` },
    httpResponse: { status: i % 10 === 0 ? 500 : 200 },
    status: EntryStatus.COMPLETE,
    elapsedMs: 2.5,
    ...extra,
  });

describe("entry rows", () => {
  it("derive what the table shows from the hub's JSON", () => {
    const row = rowFromJson(entryToJson(entry(10)))!;
    expect(row).toMatchObject({ id: "w-10", protocol: "http", src: "front-1", srcNamespace: "shop", dst: "10.0.0.2:8080", method: "GET", target: "/items/10", status: "500", isError: true });
  });
  it("ignore JSON that is not an entry", () => {
    expect(rowFromJson({ protocol: 12345, src: "nope" })).toBeUndefined();
  });
});

const ids = (b: LiveBuffer) => {
  const v = b.snapshot();
  return Array.from({ length: v.length }, (_, i) => v.at(i).id);
};

describe("live buffer", () => {
  it("shows the newest first, drops duplicates and stays bounded", () => {
    const b = new LiveBuffer(5);
    b.push([1, 2, 3].map((i) => toRow(entry(i))));
    expect(b.flush()).toBe(true);
    b.push([3, 4, 5, 6, 7].map((i) => toRow(entry(i))));
    b.flush();
    expect(ids(b)).toEqual(["w-7", "w-6", "w-5", "w-4", "w-3"]);
    expect(b.evicted).toBe(2);
    expect(b.flush()).toBe(false);
  });
  it("puts paged older rows after the live ones and evicts them first", () => {
    const b = new LiveBuffer(4);
    b.appendOlder([toRow(entry(2)), toRow(entry(1))]);
    b.push([toRow(entry(3)), toRow(entry(4))]);
    b.flush();
    expect(ids(b)).toEqual(["w-4", "w-3", "w-2", "w-1"]);
    b.push([toRow(entry(5))]);
    b.flush();
    expect(ids(b)).toEqual(["w-5", "w-4", "w-3", "w-2"]);
  });
  it("holds every id at most once under any arrival order", () => {
    fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 20 }), { maxLength: 20 }), (batches) => {
      const b = new LiveBuffer(30);
      for (const batch of batches) {
        b.push(batch.map((i) => toRow(entry(i))));
        b.flush();
      }
      const all = ids(b);
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBeLessThanOrEqual(30);
      expect(b.snapshot().indexOf(all[all.length - 1] ?? "none")).toBe(all.length - 1);
    }));
  });
});

describe("service map graph", () => {
  it("groups nodes by namespace and builds a filter per edge", () => {
    const map = ServiceMap.fromObject({
      nodes: [
        { id: "shop/front", name: "front", namespace: "shop", kind: "pod" },
        { id: "shop/cart", name: "cart", namespace: "shop", kind: "service" },
      ],
      edges: [
        { src: "shop/front", dst: "shop/cart", protocol: "HTTP", count: 10, errors: 1, p50Ms: 1, p95Ms: 5, p99Ms: 9 },
        { src: "shop/front", dst: "10.0.0.9:6379", protocol: "REDIS", count: 4 },
      ],
    });
    const g = buildGraph(map);
    expect(g.namespaces.map((n) => n.id)).toEqual(["ns:shop"]);
    expect(g.nodes.find((n) => n.id === "10.0.0.9:6379")?.kind).toBe("external");
    const http = g.edges.find((e) => e.protocol === "http")!;
    expect(http.errorRate).toBeCloseTo(0.1);
    expect(http.label).toBe("http 10 · 10% err");
    expect(http.filter).toBe('http and src.pod == "front" and src.namespace == "shop" and dst.service == "cart" and dst.namespace == "shop"');
    expect(g.edges.find((e) => e.protocol === "redis")!.filter).toBe('redis and src.pod == "front" and src.namespace == "shop" and dst.ip == "10.0.0.9"');
  });
});

describe("bodies", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it("pretty-prints JSON, lists form fields and falls back to hex for binary", () => {
    expect(viewBody(enc('{"a":[1,2],"token":"[REDACTED]"}'), "application/json")).toEqual({ kind: "json", text: '{\n  "a": [\n    1,\n    2\n  ],\n  "token": "[REDACTED]"\n}' });
    expect(viewBody(enc("a=1&password=%5BREDACTED%5D"), "application/x-www-form-urlencoded")).toEqual({ kind: "form", fields: [["a", "1"], ["password", "[REDACTED]"]] });
    const bin = viewBody(new Uint8Array([0, 1, 2, 0xff, 0x41]));
    expect(bin.kind).toBe("hex");
    expect(bin.kind === "hex" && bin.text).toContain("00 01 02 ff 41");
    expect(viewBody(enc('{"truncated": '), "application/json").kind).toBe("text");
  });
});

describe("url state", () => {
  it("round-trips the view through the query string", () => {
    const s = { filter: 'http and dst.namespace == "shop"', tab: "map" as const, selected: "w-1" };
    expect(readViewState(writeViewState(s))).toEqual(s);
    expect(writeViewState({ filter: "", tab: "traffic" })).toBe("");
  });
  it("adds clauses keeping an or-filter's meaning", () => {
    expect(addClause("", "redis")).toBe("redis");
    expect(addClause("http", "response.status == 500")).toBe("http and response.status == 500");
    expect(addClause("http or redis", "tls")).toBe("(http or redis) and tls");
  });
  it("keeps a bounded, de-duplicated filter history", () => {
    const store = new Map<string, string>();
    const storage = { setItem: (k: string, v: string) => void store.set(k, v) };
    let h: string[] = [];
    for (let i = 0; i < 30; i++) h = rememberFilter(`f${i % 25}`, h, storage);
    expect(h.length).toBe(20);
    expect(h[0]).toBe("f4");
    expect(new Set(h).size).toBe(h.length);
  });
});
