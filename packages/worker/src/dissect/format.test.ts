import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { entryToJson, jsonlStats, type EntryInit } from "@tapline/protocol";
import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { dissectFile } from "./dissect-file.js";
import { EntryWriter, formatEntry } from "./format.js";

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

  // entryJsonLine writes the JSON itself; what it must equal is the protobuf JSON mapping.
  it.each(files.map((f) => [f.slice(src.length)]))("%s: each line is JSON.stringify(entryToJson(entry))", async (rel) => {
    const entries: EntryInit[] = [];
    await dissectFile(join(src, rel), { onEntry: (e) => entries.push(e) });
    const fallbacks = jsonlStats.fallbacks;
    for (const e of entries) expect(formatEntry(e, "jsonl")).toBe(JSON.stringify(entryToJson(e)) + "\n");
    expect(jsonlStats.fallbacks, "entries the fast writer handed to entryToJson").toBe(fallbacks);
  });

  // What EntryWriter sends, batched into chunks, is exactly those lines in order.
  it("EntryWriter's jsonl bytes are the same lines, over several chunks", async () => {
    const entries: EntryInit[] = [];
    for (const f of files) await dissectFile(f, { onEntry: (e) => entries.push(e) });
    // Repeated so the output spans several chunks.
    const all = Array.from({ length: 8 }, () => entries).flat();
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (c: Buffer, _enc, cb) => (chunks.push(Buffer.from(c)), cb()) });
    const w = new EntryWriter(out, "jsonl");
    for (const e of all) w.write(e);
    await w.end();
    expect(chunks.length).toBeGreaterThan(1);
    const expected = all.map((e) => JSON.stringify(entryToJson(e)) + "\n").join("");
    expect(Buffer.concat(chunks).toString("utf8")).toBe(expected);
  });
});
