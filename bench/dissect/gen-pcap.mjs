// Builds a large classic pcap (Ethernet, µs) by replicating real captured TCP flows (the
// dissector fixtures: node http + curl, redis-server + redis-cli, kafkajs/kcat against the
// librdkafka mock cluster, node http2 + curl --http2-prior-knowledge and @grpc/grpc-js). Each copy gets its own client address (10.x.y.z) and shifted
// sequence numbers (wrapping around 2^32), and copies are interleaved, so the result holds
// many distinct, concurrent, complete connections.
//
// usage: node gen-pcap.mjs OUT.pcap SIZE_MB PROTOS   (PROTOS: comma list of http,redis,kafka,http2)
// prints JSON: { file, bytes, packets, flows, serverPorts: { http: [...], redis: [...], kafka: [...], http2: [...] } }
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../packages/worker/src/", import.meta.url));
const sources = {
  http: ["dissectors/http/__fixtures__/http.pcap", "capture/__fixtures__/loopback.pcap"],
  redis: ["dissectors/redis/__fixtures__/redis.pcap"],
  kafka: ["dissectors/kafka/__fixtures__/kafkajs.pcap", "dissectors/kafka/__fixtures__/kcat.pcap"],
  http2: ["h2c", "h2-streams", "grpc"].map((f) => `dissectors/http2/__fixtures__/${f}.pcap`),
};
// Ports of the fixture servers that carry something else (the line protocol of loopback.pcap).
const skipPorts = new Set([7070, 7071]);

const [out, sizeMb = "200", protoList = "http,redis,kafka"] = process.argv.slice(2);
if (!out) {
  console.error("usage: node gen-pcap.mjs OUT.pcap SIZE_MB http,redis,kafka,http2");
  process.exit(2);
}
const target = Number(sizeMb) * 1024 * 1024;
const protos = protoList.split(",");

/** Complete TCP/IPv4 flows (with a SYN) of a classic Ethernet pcap: packets relative to the flow start. */
function flowsOf(path) {
  const b = readFileSync(path);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const ns = (le ? b.readUInt32LE(0) : b.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`${path}: linktype ${u32(20)}, expected Ethernet`);
  const flows = new Map();
  for (let off = 24; off + 16 <= b.length; ) {
    const tsUs = u32(off) * 1e6 + (ns ? Math.floor(u32(off + 4) / 1000) : u32(off + 4));
    const cap = u32(off + 8);
    const frame = b.subarray(off + 16, off + 16 + cap);
    off += 16 + cap;
    if (frame.length < 54 || frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 6) continue;
    const ihl = (frame[14] & 15) * 4;
    const t = 14 + ihl;
    const src = frame.readUInt32BE(26), dst = frame.readUInt32BE(30);
    const sp = frame.readUInt16BE(t), dp = frame.readUInt16BE(t + 2);
    if (skipPorts.has(sp) || skipPorts.has(dp)) continue;
    const a = `${src}:${sp}`, z = `${dst}:${dp}`;
    const key = a < z ? `${a}-${z}` : `${z}-${a}`;
    let f = flows.get(key);
    const flags = frame[t + 13];
    if (!f) {
      if ((flags & 0x12) !== 0x02) continue; // start at the SYN only
      f = { client: a, serverPort: dp, t0: tsUs, packets: [] };
      flows.set(key, f);
    }
    f.packets.push({ dt: tsUs - f.t0, frame: Buffer.from(frame), fromClient: a === f.client, ihl });
  }
  return [...flows.values()];
}

const pools = {};
const serverPorts = {};
for (const p of protos) {
  pools[p] = sources[p].flatMap((s) => flowsOf(root + s));
  serverPorts[p] = [...new Set(pools[p].map((f) => f.serverPort))];
  if (!pools[p].length) throw new Error(`no complete flows for ${p}`);
}

const fd = openSync(out, "w");
const hdr = Buffer.alloc(24);
hdr.writeUInt32LE(0xa1b2c3d4, 0);
hdr.writeUInt16LE(2, 4);
hdr.writeUInt16LE(4, 6);
hdr.writeUInt32LE(262144, 16);
hdr.writeUInt32LE(1, 20);
writeSync(fd, hdr);
let buf = Buffer.allocUnsafe(8 * 1024 * 1024);
let used = 0;
let bytes = 24;
let packets = 0;
let flowsOut = 0;
let clock = 1_700_000_000 * 1e6;

function emit(tsUs, frame) {
  if (used + 16 + frame.length > buf.length) {
    writeSync(fd, buf, 0, used);
    used = 0;
  }
  buf.writeUInt32LE(Math.floor(tsUs / 1e6), used);
  buf.writeUInt32LE(tsUs % 1e6, used + 4);
  buf.writeUInt32LE(frame.length, used + 8);
  buf.writeUInt32LE(frame.length, used + 12);
  frame.copy(buf, used + 16);
  used += 16 + frame.length;
  bytes += 16 + frame.length;
  packets++;
}

/** A copy of a flow's packet with the client address replaced and sequence numbers shifted. */
function rewrite(pkt, clientIp, dc, ds) {
  const f = Buffer.from(pkt.frame);
  const t = 14 + pkt.ihl;
  f.writeUInt32BE(clientIp, pkt.fromClient ? 26 : 30);
  const seq = f.readUInt32BE(t + 4), ack = f.readUInt32BE(t + 8);
  f.writeUInt32BE((seq + (pkt.fromClient ? dc : ds)) >>> 0, t + 4);
  if (f[t + 13] & 0x10) f.writeUInt32BE((ack + (pkt.fromClient ? ds : dc)) >>> 0, t + 8);
  return f;
}

// Interleave WINDOW flows at a time, packet by packet, in timestamp order.
const WINDOW = 16;
let copy = 0;
const active = [];
const order = protos.flatMap((p) => pools[p]);
while (bytes < target || active.length) {
  while (active.length < WINDOW && bytes < target) {
    const f = order[copy % order.length];
    copy++;
    flowsOut++;
    const ip = (10 << 24) | (copy & 0xffffff);
    const dc = Math.floor(Math.random() * 2 ** 32);
    const ds = Math.floor(Math.random() * 2 ** 32);
    active.push({ f, i: 0, ip: ip >>> 0, dc, ds, start: clock });
    clock += 37;
  }
  let best = 0;
  for (let k = 1; k < active.length; k++) {
    const a = active[k], b = active[best];
    if (a.start + a.f.packets[a.i].dt < b.start + b.f.packets[b.i].dt) best = k;
  }
  const a = active[best];
  const pkt = a.f.packets[a.i];
  const ts = Math.round(a.start + pkt.dt);
  emit(ts, rewrite(pkt, a.ip, a.dc, a.ds));
  if (++a.i === a.f.packets.length) {
    active.splice(best, 1);
    clock = Math.max(clock, ts);
  }
}
writeSync(fd, buf, 0, used);
closeSync(fd);
console.log(JSON.stringify({ file: out, bytes, packets, flows: flowsOut, serverPorts }));
