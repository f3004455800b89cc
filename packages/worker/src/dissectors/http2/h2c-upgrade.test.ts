// HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): the HTTP/1 session hands the connection to an HTTP/2
// session after the 101; the upgrade request is stream 1. Real traffic: curl --http2 against
// __fixtures__/h2c-upgrade-server.py (python3-h2), captured by capture.sh.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Protocol, type EntryInit } from "@tapline/protocol";
import { dissectFile } from "../../dissect/index.js";

const pcap = fileURLToPath(new URL("./__fixtures__/h2c-upgrade.pcap", import.meta.url));

describe("h2c upgrade", () => {
  it("dissects the upgrade request and later streams as HTTP/2, agreeing with tshark", async () => {
    const entries: EntryInit[] = [];
    await dissectFile(pcap, { onEntry: (e) => entries.push(e) });
    // tshark: HTTP/1.1 request lines, then HTTP/2 HEADERS with :status per stream
    const t = execFileSync("tshark", ["-r", pcap, "-d", "tcp.port==18443,http", "-Y", "http.request or http2.type == 1", "-T", "fields", "-e", "http.request.uri", "-e", "http2.headers.path", "-e", "http2.headers.status"], { encoding: "utf8" });
    const tsharkPaths = t.split("\n").flatMap((l) => l.split("\t").slice(0, 2)).filter(Boolean);
    const tsharkStatuses = t.split("\n").map((l) => l.split("\t")[2]).filter(Boolean).flatMap((s) => s.split(","));
    expect(entries.map((e) => e.httpRequest?.path).sort()).toEqual([...tsharkPaths].sort());
    expect(entries.map((e) => String(e.httpResponse?.status)).sort()).toEqual([...tsharkStatuses].sort());
    expect(entries.every((e) => e.protocol === Protocol.HTTP2 && e.httpResponse?.version === "HTTP/2")).toBe(true);
    const upgraded = entries.filter((e) => e.httpRequest?.streamId === 1);
    expect(upgraded.map((e) => e.httpRequest?.path).sort()).toEqual(["/a", "/items", "/missing"]);
    for (const e of upgraded) {
      expect(e.httpResponse?.informational).toEqual([101]);
      expect(e.warnings?.[0]).toMatch(/upgraded from HTTP\/1.1 \(h2c\)/);
      expect(e.httpRequest?.headers?.some((h) => h.name === "http2-settings")).toBe(false);
    }
    const a = entries.find((e) => e.httpRequest?.path === "/a")!;
    expect(a.httpRequest?.headers?.find((h) => h.name === "authorization")?.value).toBe("Bearer up-secret");
    const b = entries.find((e) => e.httpRequest?.path === "/b")!;
    expect(b.httpRequest?.streamId).toBe(3);
    expect(b.warnings ?? []).toEqual([]);
    expect(JSON.parse(Buffer.from(b.httpResponse!.body!.data!).toString())).toEqual({ path: "/b", upgraded: false });
  });
});
