// Fixed-volume TCP traffic for the capture benchmark.
//   node blast.mjs server HOST PORT            accept connections, discard, print bytes per connection
//   node blast.mjs client HOST PORT BYTES [MBPS] send BYTES over TCP (paced to MBPS megabits/s if given)
//   node blast.mjs udp HOST PORT COUNT SIZE [MBPS] send COUNT datagrams of SIZE bytes
// The server also binds the UDP port, so datagrams are not answered with ICMP.
import dgram from "node:dgram";
import net from "node:net";

const [mode, host, portStr, bytesStr, mbpsStr] = process.argv.slice(2);
const port = Number(portStr);

if (mode === "server") {
  dgram.createSocket("udp4").bind(port, host);
  net
    .createServer((s) => {
      let n = 0;
      s.on("data", (d) => (n += d.length));
      s.on("end", () => {
        s.end(String(n));
      });
      s.on("error", () => {});
    })
    .listen(port, host, () => console.log("ready"));
} else if (mode === "udp") {
  const count = Number(bytesStr);
  const size = Number(mbpsStr);
  const mbps = Number(process.argv[7] ?? 0);
  const payload = Buffer.alloc(size, 0x62);
  const sock = dgram.createSocket("udp4");
  sock.connect(port, host, () => {
    const start = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
    let sent = 0;
    let inflight = 0;
    const done = () => {
      const seconds = elapsed();
      console.log(JSON.stringify({ sent, seconds }));
      sock.close();
    };
    const onSent = () => {
      inflight--;
      if (sent >= count && inflight === 0) done();
    };
    const pump = () => {
      let budget = 256;
      if (mbps > 0) budget = Math.min(budget, Math.floor((elapsed() * mbps * 1e6) / 8 / (size + 28)) - sent);
      for (let i = 0; i < budget && sent < count; i++) {
        sent++;
        inflight++;
        sock.send(payload, onSent);
      }
      if (sent < count) {
        if (inflight > 4096 || budget <= 0) setTimeout(pump, 1);
        else setImmediate(pump);
      }
    };
    pump();
  });
} else {
  const total = Number(bytesStr);
  const mbps = Number(mbpsStr ?? 0);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const sock = net.createConnection({ host, port, noDelay: true });
  const start = process.hrtime.bigint();
  let sent = 0;
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  const pump = () => {
    while (sent < total) {
      if (mbps > 0) {
        const allowed = (elapsed() * mbps * 1e6) / 8;
        if (sent >= allowed) {
          setTimeout(pump, 1);
          return;
        }
      }
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        sock.once("drain", pump);
        return;
      }
    }
    sock.end();
  };
  let reply = "";
  sock.on("connect", pump);
  sock.on("data", (d) => (reply += d));
  sock.on("close", () => {
    const secs = elapsed();
    console.log(JSON.stringify({ sent, received: Number(reply), seconds: secs }));
    process.exit(Number(reply) === total ? 0 : 1);
  });
}
