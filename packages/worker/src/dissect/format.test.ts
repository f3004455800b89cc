import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { entryToJson, jsonlStats, type EntryInit } from "@tapline/protocol";
import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { dissectFile } from "./dissect-file.js";
import { dissectLimitsFor, EntryWriter, formatEntry, loadJsonl, tableHeader } from "./format.js";

const src = fileURLToPath(new URL("..", import.meta.url));

/** Every capture committed under src/ (the dissector, capture and flow fixtures). */
function fixtures(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return fixtures(p);
    return /\.pcap(ng)?$/.test(d.name) ? [p] : [];
  });
}

describe("jsonl output", () => {
  const files = fixtures(src);
  it("finds the fixture captures", () => expect(files.length).toBeGreaterThanOrEqual(10));

  // First in this file: the encoder is not loaded yet, so these entries wait for it.
  it("EntryWriter keeps the entries written while the jsonl encoder loads, in order", async () => {
    const entries: EntryInit[] = [];
    for (const f of files.slice(0, 3)) await dissectFile(f, { onEntry: (e) => entries.push(e) });
    expect(entries.length).toBeGreaterThan(2);
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (c: Buffer, _enc, cb) => (chunks.push(Buffer.from(c)), cb()) });
    const w = new EntryWriter(out, "jsonl");
    for (const e of entries.slice(0, 2)) w.write(e);
    const wait = w.drain();
    expect(wait, "drain() waits for the encoder").toBeInstanceOf(Promise);
    await wait;
    for (const e of entries.slice(2)) w.write(e);
    await w.end();
    expect(Buffer.concat(chunks).toString("utf8")).toBe(entries.map((e) => JSON.stringify(entryToJson(e)) + "\n").join(""));
    expect(() => formatEntry(entries[0], "jsonl")).not.toThrow();
  });

  // entryJsonLine writes the JSON itself; what it must equal is the protobuf JSON mapping.
  it.each(files.map((f) => [f.slice(src.length)]))("%s: each line is JSON.stringify(entryToJson(entry))", async (rel) => {
    const entries: EntryInit[] = [];
    await dissectFile(join(src, rel), { onEntry: (e) => entries.push(e) });
    const fallbacks = jsonlStats.fallbacks;
    for (const e of entries) expect(formatEntry(e, "jsonl")).toBe(JSON.stringify(entryToJson(e)) + "\n");
    expect(jsonlStats.fallbacks, "entries the fast writer handed to entryToJson").toBe(fallbacks);
  });

  // What EntryWriter sends, batched into chunks, is exactly those lines in order.
  async function manyEntries(): Promise<EntryInit[]> {
    const entries: EntryInit[] = [];
    for (const f of files) await dissectFile(f, { onEntry: (e) => entries.push(e) });
    // Repeated so the output spans several 1 MiB chunks.
    return Array.from({ length: 40 }, () => entries).flat();
  }

  it("EntryWriter's jsonl bytes are the same lines, over several chunks, to a stream that keeps the chunks it is given", async () => {
    const all = await manyEntries();
    const chunks: Buffer[] = [];
    // keeps the chunk itself (as a PassThrough would): a reused buffer would show here
    const out = new Writable({ write: (c: Buffer, _enc, cb) => (chunks.push(c), cb()) });
    const w = new EntryWriter(out, "jsonl");
    for (const e of all) w.write(e);
    await w.end();
    expect(chunks.length).toBeGreaterThan(2);
    const expected = all.map((e) => JSON.stringify(entryToJson(e)) + "\n").join("");
    expect(Buffer.concat(chunks).toString("utf8")).toBe(expected);
  });

  it("EntryWriter's bytes over a unix socket (the reused-buffer path) are the same lines", async () => {
    const all = await manyEntries();
    const dir = mkdtempSync(join(tmpdir(), "tapline-writer-"));
    const path = join(dir, "s");
    const got: Buffer[] = [];
    const received = new Promise<void>((resolve) => {
      const server = createServer((c) => {
        c.on("data", (d) => got.push(d));
        c.on("end", () => (server.close(), resolve()));
      }).listen(path);
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const sock = createConnection(path);
      await new Promise((r) => sock.once("connect", r));
      const w = new EntryWriter(sock, "jsonl");
      for (const e of all) {
        w.write(e);
        const wait = w.drain();
        if (wait) await wait;
      }
      await w.end();
      sock.end();
      await received;
      const expected = all.map((e) => JSON.stringify(entryToJson(e)) + "\n").join("");
      expect(Buffer.concat(got).toString("utf8")).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("EntryWriter writes a line longer than its buffer whole, between the others", async () => {
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (c: Buffer, _enc, cb) => (chunks.push(Buffer.from(c)), cb()) });
    const w = new EntryWriter(out, "jsonl");
    const small: EntryInit = { id: "a", workerId: "w" };
    const big: EntryInit = { id: "b", warnings: ["é".repeat(600_000)] };
    w.write(small);
    w.write(big);
    w.write(small);
    await w.end();
    const expected = [small, big, small].map((e) => JSON.stringify(entryToJson(e)) + "\n").join("");
    expect(Buffer.concat(chunks).toString("utf8")).toBe(expected);
  });
});

describe("table output without bodies (dissectLimitsFor)", () => {
  const files = fixtures(src);

  /** The entry as JSON with the body fields keepBodies=false leaves out removed. */
  function withoutBodyData(e: EntryInit): unknown {
    const json = JSON.parse(JSON.stringify(entryToJson(e)));
    for (const m of [json.httpRequest, json.httpResponse]) {
      if (!m?.body) continue;
      for (const k of ["data", "truncated", "decoded", "decodedSize"]) delete m.body[k];
    }
    return json;
  }

  it("keeps bodies for jsonl only", () => {
    expect(dissectLimitsFor("jsonl").keepBodies).toBeUndefined();
    expect(dissectLimitsFor("table").keepBodies).toBe(false);
    expect(dissectLimitsFor("none").keepBodies).toBe(false);
  });

  it.each(files.map((f) => [f.slice(src.length)]))("%s: same table and same entries but body data", async (rel) => {
    const kept: EntryInit[] = [];
    const measured: EntryInit[] = [];
    await dissectFile(join(src, rel), { onEntry: (e) => kept.push(e) });
    await dissectFile(join(src, rel), { limits: dissectLimitsFor("table"), onEntry: (e) => measured.push(e) });
    expect(measured.map((e) => formatEntry(e, "table"))).toEqual(kept.map((e) => formatEntry(e, "table")));
    expect(measured.map(withoutBodyData)).toEqual(kept.map(withoutBodyData));
    for (const e of measured) for (const m of [e.httpRequest, e.httpResponse]) expect(m?.body?.data).toBeUndefined();
  });

  it("the fixtures hold HTTP bodies with data (so the comparison above means something)", async () => {
    let withData = 0;
    for (const f of files) await dissectFile(f, { onEntry: (e) => (withData += e.httpResponse?.body?.data?.length ? 1 : 0) });
    expect(withData).toBeGreaterThan(5);
  });
});

describe("table output", () => {
  const files = fixtures(src);

  /** The bytes written, as text with each byte a char (compared with the utf8 of formatEntry's lines). */
  async function tableBytes(entries: EntryInit[]): Promise<string> {
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (c: Buffer, _enc, cb) => (chunks.push(Buffer.from(c)), cb()) });
    const w = new EntryWriter(out, "table");
    for (const e of entries) w.write(e);
    await w.end();
    return Buffer.concat(chunks).toString("latin1");
  }
  const utf8 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

  it("EntryWriter writes the header and formatEntry's line for every fixture entry", async () => {
    const entries: EntryInit[] = [];
    for (const f of files) await dissectFile(f, { onEntry: (e) => entries.push(e) });
    expect(entries.length).toBeGreaterThan(20);
    expect(await tableBytes(entries)).toBe(utf8(tableHeader() + entries.map((e) => formatEntry(e, "table")).join("")));
  });

  it("cells cut or padded as formatEntry does: long, non-ASCII, cut surrogate pairs, IPv6, missing endpoints", async () => {
    const long = "/" + "a".repeat(60);
    const entries: EntryInit[] = [
      { protocol: 1, src: { ip: "10.0.0.1", port: 1234 }, dst: { ip: "10.0.0.2", port: 80 }, httpRequest: { method: "GET", path: long }, elapsedMs: 1.5 },
      { protocol: 1, src: { ip: "fd00::1", port: 443 }, dst: { ip: "fd00:1234:5678:9abc:def0:1234:5678:9abc", port: 65535 }, httpRequest: { method: "PÖST", path: "/é/ü" } },
      { protocol: 1, src: { ip: "" }, httpRequest: { method: "GET", path: "x".repeat(38) + "😀😀" }, httpResponse: { status: 200 } },
      { protocol: 1, httpRequest: { method: "M".repeat(15) + "é", path: "é".repeat(39) + "😀" }, elapsedMs: 123456.789 },
      { protocol: 4, src: { ip: "1.2.3.4" }, redisRequest: { command: "GET", key: "k" }, redisResponse: { value: { kind: 4 } } },
      {},
    ];
    const expected = tableHeader() + entries.map((e) => formatEntry(e, "table")).join("");
    expect(expected).toContain("…");
    expect(await tableBytes(entries)).toBe(utf8(expected));
  });

  it("rows over several buffers, and a row whose cells are longer than a buffer, come out whole", async () => {
    const e: EntryInit = { protocol: 1, httpRequest: { method: "GET", path: "/p" }, httpResponse: { status: 200 } };
    const huge: EntryInit = { protocol: 1, httpRequest: { method: "GET", path: "/" + "é".repeat(400_000) } };
    const many = [...Array.from({ length: 20_000 }, () => e), huge, e];
    expect(await tableBytes(many)).toBe(utf8(tableHeader() + many.map((x) => formatEntry(x, "table")).join("")));
  });
});
