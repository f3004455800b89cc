// Entries that carry a value under a name on each carrier the redactor covers. Used by the
// redaction tests and the hub's property test, and by the benchmark to make realistic entries.
import { Protocol } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";

export const CARRIERS = [
  "requestHeader", "responseHeader", "trailer", "query", "urlencoded", "multipart", "json", "jsonArray",
  "kafkaRecordHeader", "kafkaRecordJson",
] as const;
export type Carrier = (typeof CARRIERS)[number];

const enc = (s: string): Buffer => Buffer.from(s, "utf8");

/** An HTTP (or Kafka) entry with `value` under `name` on `carrier`. */
export function entryWithSecret(carrier: Carrier, name: string, value: string, id = "w-1"): EntryInit {
  const base: EntryInit = {
    id, timestampNs: 1_763_000_000_000_000_000, protocol: Protocol.HTTP,
    src: { ip: "10.0.0.1", port: 40000, pod: "client", namespace: "ns" },
    dst: { ip: "10.0.0.2", port: 8080, pod: "server", namespace: "ns" },
    httpRequest: { method: "POST", path: "/api", version: "HTTP/1.1", headers: [{ name: "Host", value: "server" }] },
    httpResponse: { status: 200, version: "HTTP/1.1", headers: [] },
  };
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
