// Worker ingest over ws: the first message must be a WorkerHello with the token, else the socket
// is closed with 1008 (policy violation) and nothing is stored. Then batches (redacted and
// stored), stats and PCAP answers. Hub to worker: HelloAck, TapConfig, PcapRequest.
import { timingSafeEqual } from "node:crypto";
import fp from "fastify-plugin";
import type { FastifyInstance } from "fastify";
import { HubMessage, PcapChunk, WorkerHello, WorkerMessage, WorkerStats } from "@tapline/protocol";
import { messageKind, splitBatch } from "../ingest/index.js";
import type { WorkerInfo } from "../workers/index.js";
import "./types.js";

export interface IngestPluginOptions {
  token: string;
  path?: string;
  /** A connection that sends no hello within this time is closed. */
  helloTimeoutMs?: number;
  /** Stored batches are acknowledged (HelloAck.last_seq) at most this long after storing… */
  ackIntervalMs?: number;
  /** …or at once when this many batches are waiting for an acknowledgement. */
  ackEveryBatches?: number;
}

const POLICY_VIOLATION = 1008;
const INVALID_PAYLOAD = 1007;

function tokenMatches(expected: Buffer, given: string): boolean {
  const g = Buffer.from(given, "utf8");
  return g.length === expected.length && timingSafeEqual(g, expected);
}

async function ingestPlugin(app: FastifyInstance, opts: IngestPluginOptions): Promise<void> {
  if (typeof opts.token !== "string" || opts.token.length < 1) throw new Error("hub: a worker token is required");
  const expected = Buffer.from(opts.token, "utf8");
  const helloTimeoutMs = opts.helloTimeoutMs ?? 10_000;
  const ackIntervalMs = opts.ackIntervalMs ?? 200;
  const ackEveryBatches = opts.ackEveryBatches ?? 16;
  const { pipeline, workers, store, hubMetrics: metrics } = app;

  app.get(opts.path ?? "/ws/worker", { websocket: true }, (socket, req) => {
    const remote = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? 0}`;
    let worker: WorkerInfo | undefined;
    const reject = (reason: string) => {
      metrics.rejected.inc();
      req.log.warn({ remote }, `worker rejected: ${reason}`);
      socket.close(POLICY_VIOLATION, reason);
    };
    const helloTimer = setTimeout(() => { if (!worker) reject("no hello"); }, helloTimeoutMs);
    helloTimer.unref();
    // The worker trims its resend queue only on an acknowledgement, so stored batches are acked
    // (throttled: one ack covers every batch stored before it, as last_seq is cumulative).
    // worker.lastSeq moves only when a batch's commit is done (the pipeline group-commits);
    // `received` is the highest seq handed to the pipeline, for telling new batches from resent ones.
    let ackTimer: NodeJS.Timeout | undefined;
    let unacked = 0;
    let received = 0;
    const sendAck = () => {
      clearTimeout(ackTimer);
      ackTimer = undefined;
      unacked = 0;
      if (worker && socket.readyState === socket.OPEN) {
        socket.send(HubMessage.encode({ helloAck: { hubVersion: app.hubInfo.version, lastSeq: worker.lastSeq } }).finish());
      }
    };

    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return worker ? badMessage("text frame") : reject("text frame before hello");
      if (!worker) {
        let msg: WorkerMessage;
        try {
          msg = WorkerMessage.decode(data);
        } catch {
          return reject("undecodable hello");
        }
        if (msg.kind !== "hello" || !msg.hello) return reject("first message is not a hello");
        const hello = WorkerHello.fromObject(msg.hello);
        if (!tokenMatches(expected, hello.token)) return reject("invalid token");
        if (!hello.workerId) return reject("hello without worker id");
        clearTimeout(helloTimer);
        worker = workers.connect(hello, socket, remote, store.lastSeq(hello.workerId));
        received = worker.lastSeq;
        req.log.info({ worker: worker.id, node: worker.node, remote }, "worker connected");
        socket.send(HubMessage.encode({ helloAck: { hubVersion: app.hubInfo.version, lastSeq: worker.lastSeq } }).finish());
        socket.send(HubMessage.encode({ tap: workers.tapConfig }).finish());
        return;
      }
      try {
        const { field, body } = messageKind(data);
        if (field === 2) {
          const batch = splitBatch(body);
          metrics.batches.inc();
          worker.batches++;
          worker.entries += batch.entries.length;
          worker.droppedBefore += batch.droppedBefore;
          // seq 0 is an entry-less batch carrying only dropped_before: not part of the sequence.
          if (batch.seq > received) {
            const seq = (received = batch.seq);
            const w = worker;
            pipeline.enqueueEncoded(w.id, batch.entries, { workerId: w.id, seq }, () => {
              w.lastSeq = seq;
              if (++unacked >= ackEveryBatches) sendAck();
              else ackTimer ??= setTimeout(sendAck, ackIntervalMs);
            });
          } else pipeline.enqueueEncoded(worker.id, batch.entries);
        } else if (field === 3) workers.setStats(worker, WorkerStats.decode(body));
        else if (field === 4) workers.onPcapChunk(worker, PcapChunk.decode(body));
        else badMessage(`unknown message field ${field}`);
      } catch (err) {
        badMessage((err as Error).message);
      }
    });
    socket.on("close", () => {
      clearTimeout(helloTimer);
      clearTimeout(ackTimer);
      if (worker) {
        workers.disconnect(worker);
        req.log.info({ worker: worker.id }, "worker disconnected");
      }
    });

    function badMessage(reason: string): void {
      metrics.badMessages.inc();
      req.log.warn({ worker: worker?.id, remote }, `bad worker message: ${reason}`);
      socket.close(INVALID_PAYLOAD, "bad message");
    }
  });
}

// Decorations are checked rather than plugin names, so a separate ingest server can share them.
export default fp(ingestPlugin, { name: "tapline-ingest", fastify: "5.x", decorators: { fastify: ["pipeline", "workers", "store", "hubMetrics", "hubInfo"] } });
