import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { HubMessage, Protocol, WorkerMessage } from "@tapline/protocol";
import { HubClient } from "./client.js";

// A hub stand-in speaking the real wire protocol: checks the token, stores entries by id,
// acknowledges the last stored seq (after hello and after each batch, as the hub does).
class TestHub {
  readonly ids = new Set<string>();
  readonly received: string[] = [];
  droppedReported = 0;
  lastSeq = 0;
  refusals = 0;
  private wss!: WebSocketServer;
  constructor(private readonly token: string, private readonly ackEachBatch = true) {}
  async listen(port = 0): Promise<number> {
    this.wss = new WebSocketServer({ host: "127.0.0.1", port });
    await once(this.wss, "listening");
    this.wss.on("connection", (ws) => {
      let authed = false;
      ws.on("message", (data: Buffer) => {
        const msg = WorkerMessage.decode(data);
        if (!authed) {
          if (msg.hello?.token !== this.token) {
            this.refusals++;
            ws.close(1008, "bad token");
            return;
          }
          authed = true;
          ws.send(HubMessage.encode({ helloAck: { lastSeq: this.lastSeq } }).finish());
          ws.send(HubMessage.encode({ tap: { podRegex: "front.*" } }).finish());
          return;
        }
        if (msg.batch) {
          this.droppedReported += Number(msg.batch.droppedBefore);
          for (const e of msg.batch.entries ?? []) {
            this.received.push(e.id ?? "");
            this.ids.add(e.id ?? "");
          }
          this.lastSeq = Math.max(this.lastSeq, Number(msg.batch.seq));
          if (this.ackEachBatch) ws.send(HubMessage.encode({ helloAck: { lastSeq: this.lastSeq } }).finish());
        }
      });
    });
    return (this.wss.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise((r) => this.wss.close(r));
  }
}

const clients: HubClient[] = [];
const hubs: TestHub[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop(0)));
  await Promise.all(hubs.splice(0).map((h) => h.close().catch(() => undefined)));
});

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
};

function client(port: number, extra: Partial<ConstructorParameters<typeof HubClient>[0]> = {}) {
  const c = new HubClient({ url: `ws://127.0.0.1:${port}/ws/worker`, token: "s3cret", workerId: "w1", node: "n1", version: "test", reconnectMinMs: 20, reconnectMaxMs: 100, batchMaxMs: 10, ...extra });
  clients.push(c);
  return c;
}
const entry = (i: number) => ({ id: `w1-${i}`, protocol: Protocol.HTTP, httpRequest: { method: "GET", path: `/${i}` } });

describe("HubClient", () => {
  it("authenticates, receives the tap target and delivers every entry", async () => {
    const hub = new TestHub("s3cret");
    hubs.push(hub);
    const port = await hub.listen();
    let tap = "";
    const c = client(port, { onTap: (t) => (tap = t.podRegex) });
    c.start();
    for (let i = 0; i < 2000; i++) c.send(entry(i));
    await until(() => hub.ids.size === 2000);
    expect(tap).toBe("front.*");
    await until(() => c.backlog === 0);
    expect(c.stats.entriesDropped).toBe(0);
  });

  it("is refused with a wrong token and says so", async () => {
    const hub = new TestHub("other");
    hubs.push(hub);
    const port = await hub.listen();
    const c = client(port);
    c.start();
    c.send(entry(1));
    await until(() => hub.refusals > 0 && c.stats.lastError !== "");
    expect(c.stats.lastError).toMatch(/refused.*bad token/);
    expect(hub.ids.size).toBe(0);
  });

  it("loses nothing inside the queue bound across a hub restart", async () => {
    const hub = new TestHub("s3cret");
    hubs.push(hub);
    const port = await hub.listen();
    const c = client(port, { maxQueueEntries: 10_000 });
    c.start();
    for (let i = 0; i < 500; i++) c.send(entry(i));
    await until(() => hub.ids.size === 500);
    const remembered = hub.lastSeq;
    await hub.close();
    hubs.pop();
    for (let i = 500; i < 3000; i++) c.send(entry(i)); // while the hub is down
    const again = new TestHub("s3cret");
    again.lastSeq = remembered; // a restarted hub knows what it stored (SQLite)
    hubs.push(again);
    await again.listen(port);
    await until(() => again.ids.size === 2500);
    for (let i = 500; i < 3000; i++) expect(again.ids.has(`w1-${i}`)).toBe(true);
    expect(c.stats.entriesDropped).toBe(0);
    expect(c.stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("counts overflow beyond the bound and reports it to the hub", async () => {
    const c = client(1, { maxQueueEntries: 1000, batchMaxEntries: 100 }); // nothing listens on port 1
    c.start();
    for (let i = 0; i < 5000; i++) c.send(entry(i));
    expect(c.backlog).toBeLessThanOrEqual(1000);
    expect(c.stats.entriesDropped).toBe(4000);
    const hub = new TestHub("s3cret");
    hubs.push(hub);
    const port = await hub.listen();
    // point a fresh client at the live hub with the same overflow, to see the report arrive
    const d = client(port, { maxQueueEntries: 1000, batchMaxEntries: 100 });
    for (let i = 0; i < 5000; i++) d.send(entry(i));
    d.start();
    await until(() => hub.ids.size === 1000);
    expect(hub.droppedReported).toBe(4000);
    expect([...hub.ids].sort()).toEqual(Array.from({ length: 1000 }, (_, i) => `w1-${4000 + i}`).sort());
  });

  it("answers a pcap request with chunks ending in `last`", async () => {
    const hub = new TestHub("s3cret");
    hubs.push(hub);
    const port = await hub.listen();
    const c = client(port, { onPcapRequest: function* () { yield Buffer.alloc(300_000, 1); yield Buffer.from([2, 3]); } });
    c.start();
    c.send(entry(1));
    await until(() => hub.ids.size === 1);
    const [ws] = [...(hub as unknown as { wss: WebSocketServer }).wss.clients];
    const chunks: { size: number; last: boolean }[] = [];
    ws.on("message", (d: Buffer) => {
      const m = WorkerMessage.decode(d);
      if (m.pcap) chunks.push({ size: m.pcap.data?.length ?? 0, last: !!m.pcap.last });
    });
    ws.send(HubMessage.encode({ pcapRequest: { requestId: "r1" } }).finish());
    await until(() => chunks.some((x) => x.last));
    expect(chunks.reduce((n, x) => n + x.size, 0)).toBe(300_002);
    expect(chunks.filter((x) => x.last).length).toBe(1);
  });
});
