// The bench's entries, shared by the hub side (hub.mjs: the direct fill) and the sending client
// (client.mjs). Every `entry` holds secrets: Authorization, api_key in the query, user/address in
// the JSON body; `cleanEntry` is the same shape without any sensitive name (most real traffic).
import { Protocol, EntryStatus } from "../../packages/protocol/dist/index.js";

const METHODS = ["GET", "POST", "PUT", "DELETE"];

export function entry(i) {
  return {
    id: `bench-${i}`, timestampNs: 1_763_000_000_000_000_000 + i * 1000, protocol: Protocol.HTTP, status: EntryStatus.COMPLETE,
    src: { ip: `10.0.${i % 50}.1`, port: 30000 + (i % 20000), pod: `client-${i % 40}`, namespace: `ns${i % 10}` },
    dst: { ip: `10.1.${i % 30}.1`, port: 8080, pod: `server-${i % 30}`, namespace: `ns${(i * 7) % 10}`, service: `svc-${i % 30}` },
    httpRequest: {
      method: METHODS[i % 4], path: `/api/items/${i}?page=2&api_key=abc${i}`, version: "HTTP/1.1",
      headers: [{ name: "Host", value: "shop" }, { name: "User-Agent", value: "curl/8" }, { name: "Authorization", value: `Bearer tok${i}` }, { name: "Content-Type", value: "application/json" }],
      body: { data: Buffer.from(`{"order":${i},"user":{"name":"n${i}","address":"street ${i}"},"items":[1,2,3]}`), size: 70 },
    },
    httpResponse: { status: i % 20 === 0 ? 503 : 200, version: "HTTP/1.1", headers: [{ name: "Content-Type", value: "application/json" }, { name: "Set-Cookie", value: `s=${i}` }], body: { data: Buffer.from(`{"ok":true,"id":${i}}`), size: 20 } },
    elapsedMs: (i % 1000) / 10, requestSize: 300, responseSize: 120, node: "node-1",
  };
}

export function cleanEntry(i) {
  const e = entry(i);
  e.id = `clean-${i}`;
  e.httpRequest.path = `/api/items/${i}?page=2`;
  e.httpRequest.headers = e.httpRequest.headers.filter((h) => h.name !== "Authorization");
  e.httpRequest.body.data = Buffer.from(`{"order":${i},"items":[1,2,3],"note":"n${i}"}`);
  e.httpResponse.headers = e.httpResponse.headers.filter((h) => h.name !== "Set-Cookie");
  return e;
}

export const MAKERS = { entry, cleanEntry };
