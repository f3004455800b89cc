// Raw-socket Redis clients for what redis-cli does not send: one write holding a pipeline,
// inline commands, RESP3 (HELLO 3) with every reply type, and RESP3 pub/sub pushes.
import net from "node:net";

const [port, mode] = [Number(process.argv[2]), process.argv[3]];
const resp = (...args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
const scripts = {
  // RESP2 pipeline in one write, then inline commands (no '*' prefix)
  pipeline: [
    resp("SET", "pipe:1", "one") + resp("INCR", "counter") + resp("LPUSH", "list", "a", "b", "c") + resp("LRANGE", "list", "0", "-1") + resp("GET", "missing"),
    "PING\r\nSET inline:key 42\r\nGET inline:key\r\n",
    resp("CLIENT", "SETNAME", "tapline-fixture") + resp("CONFIG", "GET", "maxmemory") + resp("MULTI") + resp("INCR", "counter") + resp("EXEC"),
  ],
  resp3: [
    resp("HELLO", "3"),
    resp("HSET", "h", "f1", "v1", "f2", "v2") + resp("HGETALL", "h") + resp("SADD", "s", "x") + resp("SMEMBERS", "s") + resp("GET", "missing"),
    resp("ZADD", "z", "1.5", "m") + resp("ZSCORE", "z", "m") + resp("DEBUG", "PROTOCOL", "bignum") + resp("DEBUG", "PROTOCOL", "true") + resp("DEBUG", "PROTOCOL", "verbatim") + resp("DEBUG", "PROTOCOL", "attrib"),
    resp("SUBSCRIBE", "news", "sports"),
    resp("PING"),
    resp("UNSUBSCRIBE"),
    resp("GET", "h") + resp("QUIT"),
  ],
};
const steps = scripts[mode];
const s = net.connect(port, "127.0.0.1");
let i = 0;
const next = () => {
  if (i < steps.length) s.write(steps[i++]);
};
s.on("connect", next);
// one step per reply batch; a short pause lets the publisher (capture.sh) publish while subscribed
s.on("data", () => setTimeout(next, mode === "resp3" && i === 4 ? 600 : 30));
s.on("error", () => {});
setTimeout(() => s.destroy(), 5000).unref();
