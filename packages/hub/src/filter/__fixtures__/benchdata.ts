// Deterministic synthetic entries for the filter benchmark: realistic protocol mix and
// cardinalities (10 namespaces, 30 services, a few hundred pods).
import { EntryStatus, Protocol } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";

// xorshift32 (Marsaglia): a tiny deterministic generator so every run builds the same data.
export function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const namespaces = ["shop", "payments", "auth", "search", "ops", "ml", "web", "data", "infra", "mail"];
const services = Array.from({ length: 30 }, (_, i) => `svc${i}`);
const methods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const paths = ["/api/orders", "/api/orders/42", "/api/cart", "/healthz", "/api/users?id=7", "/static/app.js"];
const statuses = [200, 200, 200, 200, 201, 204, 304, 404, 500, 503];
const redisCommands = ["GET", "GET", "SET", "HGET", "EXPIRE", "DEL"];
const topics = ["orders", "payments", "clicks", "audit"];

export function makeEntry(i: number, r: () => number): EntryInit {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const sNs = pick(namespaces);
  const dNs = pick(namespaces);
  const dSvc = pick(services);
  const base: EntryInit = {
    id: `w${i % 4}-${i}`,
    timestampNs: (1_763_900_000_000 + i) * 1e6,
    src: { ip: `10.0.${i % 200}.${i % 250}`, port: 30000 + (i % 30000), pod: `${pick(services)}-${i % 50}`, namespace: sNs },
    dst: { ip: `10.1.0.${i % 250}`, port: 8080, pod: `${dSvc}-${i % 7}`, namespace: dNs, service: dSvc },
    status: r() < 0.97 ? EntryStatus.COMPLETE : EntryStatus.NO_RESPONSE,
    elapsedMs: Math.round(r() * r() * 5000) / 10,
    requestSize: 200 + (i % 800),
    responseSize: 500 + (i % 5000),
    node: `node-${i % 5}`,
  };
  const p = r();
  if (p < 0.55) {
    return {
      ...base,
      protocol: p < 0.45 ? Protocol.HTTP : Protocol.HTTP2,
      httpRequest: { method: pick(methods), path: pick(paths), headers: [{ name: "content-type", value: r() < 0.5 ? "application/json" : "text/html" }] },
      httpResponse: { status: pick(statuses) },
    };
  }
  if (p < 0.65) {
    return {
      ...base,
      protocol: Protocol.GRPC,
      httpRequest: { method: "POST", path: "/shop.Cart/AddItem" },
      httpResponse: { status: 200 },
      grpc: { service: "shop.Cart", method: "AddItem", status: r() < 0.95 ? 0 : 14 },
    };
  }
  if (p < 0.85) {
    return { ...base, protocol: Protocol.REDIS, redisRequest: { command: pick(redisCommands), key: `session:${i % 1000}` }, redisResponse: { value: { kind: 1, text: "OK" } } };
  }
  if (p < 0.95) {
    return { ...base, protocol: Protocol.KAFKA, kafkaRequest: { apiKey: 0, apiVersion: 9, apiName: "Produce", topics: [{ name: pick(topics) }] }, kafkaResponse: {} };
  }
  return { ...base, protocol: Protocol.DNS, dnsRequest: { questions: [{ name: `${dSvc}.${dNs}.svc.cluster.local`, type: "A" }] }, dnsResponse: { rcode: r() < 0.9 ? "NOERROR" : "NXDOMAIN" } };
}

