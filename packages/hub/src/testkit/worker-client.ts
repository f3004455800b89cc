// A worker stand-in speaking the real protocol over a real ws connection: hello, batches, stats,
// PCAP answers. Used by the hub's tests, the end-to-end PCAP test and the ingest benchmark.
import WebSocket from "ws";
import { HubMessage, SCHEMA_VERSION, WorkerMessage } from "@tapline/protocol";
import type { EntryInit, WorkerStatsInit } from "@tapline/protocol";

export interface TestWorkerOptions {
  url: string;
  token: string;
  workerId?: string;
  node?: string;
  /** Answer PcapRequests with these bytes (split in chunks). */
  pcap?: Buffer;
}

export class TestWorker {
  readonly socket: WebSocket;
  readonly received: HubMessage[] = [];
  closeCode = 0;
  closeReason = "";
  readonly closed: Promise<void>;
  private seq = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly options: TestWorkerOptions) {
    this.socket = new WebSocket(options.url);
    this.closed = new Promise((resolve) => this.socket.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      resolve();
    }));
    this.socket.on("error", () => {});
    this.socket.on("message", (data: Buffer) => {
      const msg = HubMessage.decode(data);
      this.received.push(msg);
      if (msg.pcapRequest && this.options.pcap) this.answerPcap(msg.pcapRequest.requestId ?? "", this.options.pcap);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get workerId(): string {
    return this.options.workerId ?? "worker-1";
  }

  async open(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) return;
    await new Promise<void>((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", reject);
    });
  }

  async hello(token = this.options.token): Promise<void> {
    await this.open();
    this.send({ hello: { workerId: this.workerId, node: this.options.node ?? "node-1", version: "test", token, schemaVersion: SCHEMA_VERSION } });
  }

  send(msg: Parameters<typeof WorkerMessage.encode>[0]): void {
    this.socket.send(WorkerMessage.encode(msg).finish());
  }

  sendBatch(entries: EntryInit[]): void {
    this.send({ batch: { workerId: this.workerId, seq: ++this.seq, entries } });
  }

  sendStats(stats: WorkerStatsInit): void {
    this.send({ stats: { workerId: this.workerId, ...stats } });
  }

  answerPcap(requestId: string, data: Buffer, chunk = 4096): void {
    for (let i = 0; i < data.length; i += chunk) this.send({ pcap: { requestId, data: data.subarray(i, i + chunk), last: i + chunk >= data.length } });
  }

  /** Resolves when a hub message satisfying `pred` has arrived. */
  async waitFor(pred: (m: HubMessage) => boolean, timeoutMs = 5000): Promise<HubMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error("timed out waiting for a hub message");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Round trip: a ws ping answered means every earlier message was handled (one socket, in order). */
  async flush(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.socket.once("pong", () => resolve());
      this.socket.ping();
    });
  }

  close(): void {
    this.socket.close();
  }
}
