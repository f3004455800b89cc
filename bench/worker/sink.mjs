// An ack-only ingest endpoint for the worker benchmark: it speaks the hub's worker protocol
// (HelloAck after the hello, HelloAck{last_seq} after each batch) and counts entries without
// decoding them, so the benchmark measures the worker, not the hub's storage (bench/hub does).
// usage: node sink.mjs   -> prints {"url": "..."} then, on SIGTERM, {"entries": N, "batches": M}
import { WebSocketServer } from "ws";
import { HubMessage } from "@tapline/protocol";

function varint(buf, pos) {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return [v, pos];
    mul *= 128;
  }
}

/** Walks the fields of one protobuf message: calls fn(field, wireType, valueOrStart, end). */
function fields(buf, start, end, fn) {
  let pos = start;
  while (pos < end) {
    let tag;
    [tag, pos] = varint(buf, pos);
    const wt = tag & 7;
    if (wt === 0) {
      let v;
      [v, pos] = varint(buf, pos);
      fn(tag >>> 3, wt, v, pos);
    } else if (wt === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      fn(tag >>> 3, wt, pos, pos + len);
      pos += len;
    } else throw new Error(`unexpected wire type ${wt}`);
  }
}

let entries = 0;
let batches = 0;
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws/worker", perMessageDeflate: false, maxPayload: 64 << 20 });
wss.on("connection", (ws) => {
  let hello = false;
  ws.on("message", (data) => {
    if (!hello) {
      hello = true;
      ws.send(HubMessage.encode({ helloAck: { hubVersion: "bench-sink", lastSeq: 0 } }).finish());
      return;
    }
    fields(data, 0, data.length, (f, wt, s, e) => {
      if (f !== 2 || wt !== 2) return; // only batches
      let seq = 0;
      fields(data, s, e, (bf, bwt, v) => {
        if (bf === 2 && bwt === 0) seq = v;
        if (bf === 3) entries++;
      });
      batches++;
      if (seq > 0) ws.send(HubMessage.encode({ helloAck: { hubVersion: "bench-sink", lastSeq: seq } }).finish());
    });
  });
});
wss.on("listening", () => console.log(JSON.stringify({ url: `ws://127.0.0.1:${wss.address().port}/ws/worker` })));
process.on("SIGTERM", () => {
  console.log(JSON.stringify({ entries, batches }));
  process.exit(0);
});
