// A small authoritative DNS server for the fixtures (zone tapline.test), over UDP and TCP on one port.
//   node server.mjs PORT
// Answers with name compression (pointers to the question name and to earlier answers).
import dgram from "node:dgram";
import net from "node:net";

const port = Number(process.argv[2]);
const T = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33 };

function name(s) {
  return Buffer.concat([...s.split(".").filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}
function rr(owner, type, ttl, data) {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt32BE(ttl, 4);
  h.writeUInt16BE(data.length, 8);
  return Buffer.concat([owner, h, data]);
}
const u16 = (...n) => Buffer.from(n.flatMap((x) => [x >> 8, x & 255]));
const PTR_Q = Buffer.from([0xc0, 0x0c]); // the question name at offset 12
const soa = () => Buffer.concat([name("ns1.tapline.test"), name("admin.tapline.test"), Buffer.from("0000000100000e1000000384000927c000000040", "hex")]);

function answer(q) {
  const [qname, qtype] = [q.name.toLowerCase(), q.type];
  if (qname === "drop.tapline.test") return null; // never answered: a timeout
  if (qname === "www.tapline.test" && qtype === T.A) return { an: [rr(PTR_Q, T.A, 300, Buffer.from([127, 0, 0, 10]))] };
  if (qname === "www.tapline.test" && qtype === T.AAAA)
    return { an: [rr(PTR_Q, T.AAAA, 300, Buffer.from("00000000000000000000000000000001", "hex")), rr(PTR_Q, T.AAAA, 300, Buffer.from("fd000000000000000000000000000010", "hex"))] };
  if (qname === "alias.tapline.test" && qtype === T.A) {
    // CNAME target written in full at offset 12 + qlen + 4 + 12 (after the first RR header); the A record points at it
    const target = name("www.tapline.test");
    const targetOff = 12 + q.raw.length + 4 + 12;
    return { an: [rr(PTR_Q, T.CNAME, 60, target), rr(Buffer.from([0xc0 | (targetOff >> 8), targetOff & 255]), T.A, 300, Buffer.from([127, 0, 0, 10]))] };
  }
  if (qname === "mail.tapline.test" && qtype === T.MX) return { an: [rr(PTR_Q, T.MX, 3600, Buffer.concat([u16(10), name("mx.tapline.test")]))] };
  if (qname === "txt.tapline.test" && qtype === T.TXT) {
    const s = (t) => Buffer.concat([Buffer.from([t.length]), Buffer.from(t)]);
    return { an: [rr(PTR_Q, T.TXT, 60, Buffer.concat([s("v=spf1 -all"), s("hello world")]))] };
  }
  if (qname === "_http._tcp.tapline.test" && qtype === T.SRV) return { an: [rr(PTR_Q, T.SRV, 60, Buffer.concat([u16(0, 5, 8080), name("www.tapline.test")]))] };
  if (qname === "10.0.0.127.in-addr.arpa" && qtype === T.PTR) return { an: [rr(PTR_Q, T.PTR, 60, name("www.tapline.test"))] };
  if (qname === "tapline.test" && qtype === T.SOA) return { an: [rr(PTR_Q, T.SOA, 60, soa())] };
  if (qname === "tapline.test" && qtype === T.NS) return { an: [rr(PTR_Q, T.NS, 60, name("ns1.tapline.test"))] };
  if (qname === "refused.example") return { rcode: 5, an: [] };
  return { rcode: 3, an: [], ns: [rr(name("tapline.test"), T.SOA, 60, soa())] }; // NXDOMAIN with the zone's SOA
}

function handle(msg) {
  if (msg.length < 17) return null;
  let p = 12;
  const labels = [];
  while (msg[p] !== 0 && p < msg.length) {
    labels.push(msg.toString("latin1", p + 1, p + 1 + msg[p]));
    p += 1 + msg[p];
  }
  const raw = msg.subarray(12, p + 1);
  const q = { name: labels.join("."), type: msg.readUInt16BE(p + 1), raw };
  const a = answer(q);
  if (!a) return null;
  const h = Buffer.alloc(12);
  h.writeUInt16BE(msg.readUInt16BE(0), 0);
  h.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (a.rcode ?? 0), 2); // QR AA, RD copied
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(a.an.length, 6);
  h.writeUInt16BE(a.ns?.length ?? 0, 8);
  return Buffer.concat([h, msg.subarray(12, p + 5), ...a.an, ...(a.ns ?? [])]);
}

const udp = dgram.createSocket("udp4");
udp.on("message", (msg, rinfo) => {
  const r = handle(msg);
  if (r) udp.send(r, rinfo.port, rinfo.address);
});
udp.bind(port, "127.0.0.1");
const tcp = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  sock.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      const r = handle(msg);
      if (r) sock.write(Buffer.concat([u16(r.length), r]));
    }
  });
  sock.on("error", () => {});
});
tcp.listen(port, "127.0.0.1", () => console.log(`listening ${port}`));
process.on("SIGTERM", () => process.exit(0));
