// Entries that carry a value under a name on each carrier the redactor covers. Used by the
// redaction tests and the hub's property test, and by the benchmark to make realistic entries.
import { Protocol, RedisKind } from "@tapline/protocol";
import type { EntryInit, RedisRequestInit, RedisValueInit } from "@tapline/protocol";

export const CARRIERS = [
  "requestHeader", "responseHeader", "trailer", "query", "urlencoded", "multipart", "json", "jsonArray",
  "kafkaRecordHeader", "kafkaRecordJson", "grpcJson",
  "redisHset", "redisXadd", "redisHgetall", "redisHgetallMap", "redisHget", "redisHmget", "redisConfigGet", "redisXrange",
] as const;
export type Carrier = (typeof CARRIERS)[number];

const enc = (s: string): Buffer => Buffer.from(s, "utf8");
const bulk = (text: string): RedisValueInit => ({ kind: RedisKind.BULK_STRING, text, size: Buffer.byteLength(text) });
const array = (elements: RedisValueInit[], kind = RedisKind.ARRAY): RedisValueInit => ({ kind, elements, size: elements.length });

/** The Redis request and reply of each Redis carrier, with `value` under the field `name`. */
function redisCarrier(carrier: Carrier, name: string, value: string): [RedisRequestInit, RedisValueInit | undefined] {
  const pair = [bulk("a"), bulk("1"), bulk(name), bulk(value)];
  switch (carrier) {
    case "redisHset": return [{ command: "HSET", key: "acct:1", args: ["acct:1", "a", "1", name, value] }, { kind: RedisKind.INTEGER, integer: 2 }];
    case "redisXadd": return [{ command: "XADD", key: "events", args: ["events", "MAXLEN", "~", "1000", "*", "kind", "login", name, value] }, bulk("1763000000000-0")];
    case "redisHgetall": return [{ command: "HGETALL", key: "acct:1", args: ["acct:1"] }, array(pair)];
    case "redisHgetallMap": return [{ command: "HGETALL", key: "acct:1", args: ["acct:1"] }, array(pair, RedisKind.MAP)];
    case "redisHget": return [{ command: "HGET", key: "acct:1", args: ["acct:1", name] }, bulk(value)];
    case "redisHmget": return [{ command: "HMGET", key: "acct:1", args: ["acct:1", "a", name] }, array([bulk("1"), bulk(value)])];
    case "redisConfigGet": return [{ command: "CONFIG GET", args: ["*"] }, array([bulk("maxmemory"), bulk("0"), bulk(name), bulk(value)])];
    case "redisXrange": return [{ command: "XRANGE", key: "events", args: ["events", "-", "+"] }, array([array([bulk("1763000000000-0"), array(pair)])])];
    default: throw new Error(`not a Redis carrier: ${carrier}`);
  }
}

/** An HTTP, gRPC, Kafka or Redis entry with `value` under `name` on `carrier`. */
export function entryWithSecret(carrier: Carrier, name: string, value: string, id = "w-1"): EntryInit {
  const base: EntryInit = {
    id, timestampNs: 1_763_000_000_000_000_000, protocol: Protocol.HTTP,
    src: { ip: "10.0.0.1", port: 40000, pod: "client", namespace: "ns" },
    dst: { ip: "10.0.0.2", port: 8080, pod: "server", namespace: "ns" },
    httpRequest: { method: "POST", path: "/api", version: "HTTP/1.1", headers: [{ name: "Host", value: "server" }] },
    httpResponse: { status: 200, version: "HTTP/1.1", headers: [] },
  };
  if (carrier.startsWith("redis")) {
    const [redisRequest, value2] = redisCarrier(carrier, name, value);
    return { id, timestampNs: base.timestampNs, protocol: Protocol.REDIS, src: base.src, dst: base.dst, redisRequest, redisResponse: { value: value2 } };
  }
  const req = base.httpRequest!;
  const res = base.httpResponse!;
  switch (carrier) {
    case "requestHeader": req.headers!.push({ name, value }); break;
    case "responseHeader": res.headers!.push({ name, value }); break;
    case "trailer": res.trailers = [{ name, value }]; break;
    case "query": req.path = `/api?page=1&${encodeURIComponent(name)}=${encodeURIComponent(value)}&x=y`; break;
    case "urlencoded":
      req.headers!.push({ name: "Content-Type", value: "application/x-www-form-urlencoded" });
      req.body = { data: enc(`a=1&${encodeURIComponent(name)}=${encodeURIComponent(value)}`) };
      break;
    case "multipart": {
      const b = "----tapline42";
      req.headers!.push({ name: "Content-Type", value: `multipart/form-data; boundary=${b}` });
      req.body = {
        data: enc(`--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n--${b}--\r\n`),
      };
      break;
    }
    case "json":
      res.headers!.push({ name: "Content-Type", value: "application/json" });
      res.body = { data: enc(JSON.stringify({ data: { items: [{ ok: true }, { deep: { [name]: value } }] } })) };
      break;
    case "jsonArray":
      req.body = { data: enc(JSON.stringify([{ other: 1 }, { [name]: [value, { v: value }] }])) };
      break;
    case "grpcJson": {
      // application/grpc+json: the message is JSON, in the framed body and in GrpcMessage.data.
      const message = enc(JSON.stringify({ order: { id: 1, [name]: value } }));
      const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
      framed.writeUInt32BE(message.length, 1);
      base.protocol = Protocol.GRPC;
      req.version = "HTTP/2";
      req.path = "/shop.Orders/Place";
      req.headers!.push({ name: "content-type", value: "application/grpc+json" });
      req.body = { data: framed };
      base.grpc = { service: "shop.Orders", method: "Place", status: 0, requestMessages: [{ length: message.length, data: message }] };
      break;
    }
    case "kafkaRecordHeader":
    case "kafkaRecordJson": {
      const record = carrier === "kafkaRecordHeader"
        ? { headers: [{ name, value }], value: enc("payload") }
        : { value: enc(JSON.stringify({ order: 1, [name]: value })) };
      return {
        id, timestampNs: base.timestampNs, protocol: Protocol.KAFKA, src: base.src, dst: base.dst,
        kafkaRequest: { apiKey: 0, apiVersion: 9, apiName: "Produce", topics: [{ name: "orders", partitions: [{ index: 0, records: [record] }] }] },
      };
    }
  }
  return base;
}
