// The hub's HTTP API as the CLI uses it (through the port-forward or --hub URL).
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { RuntimeFailure } from "../errors.js";
import type { TapTarget } from "../config/schema.js";

async function request(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new RuntimeFailure(`cannot reach the hub at ${new URL(url).origin} (${cause})`);
  }
}

async function failure(res: Response, what: string): Promise<RuntimeFailure> {
  const body = (await res.text().catch(() => "")).slice(0, 500);
  return new RuntimeFailure(`${what}: hub answered HTTP ${res.status}${body ? `: ${body}` : ""}`);
}

/** Tells a running hub the new tap target at once (it also reads the mounted ConfigMap). */
export async function putTapTarget(hub: string, target: TapTarget, tls: boolean): Promise<"applied" | "unsupported"> {
  // The body is the schema's TapConfig in its JSON form (packages/protocol/proto/tapline.proto).
  const tapConfig = { podRegex: target.podRegex, namespaces: target.namespaces, allNamespaces: target.namespaces.length === 0, tls };
  const res = await request(`${hub}/api/tap`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(tapConfig),
  });
  if (res.status === 404 || res.status === 405) return "unsupported";
  if (!res.ok) throw await failure(res, "updating the tap target");
  return "applied";
}

export interface WorkerStat {
  node?: string;
  name?: string;
  connected?: boolean;
  [k: string]: unknown;
}

export async function getWorkers(hub: string): Promise<WorkerStat[]> {
  const res = await request(`${hub}/api/workers`);
  if (!res.ok) throw await failure(res, "reading worker stats");
  const body = (await res.json()) as unknown;
  if (Array.isArray(body)) return body as WorkerStat[];
  if (body && typeof body === "object" && Array.isArray((body as { workers?: unknown }).workers)) {
    return (body as { workers: WorkerStat[] }).workers;
  }
  throw new RuntimeFailure(`unexpected /api/workers answer from ${hub}`);
}

export async function getHealth(hub: string): Promise<unknown> {
  const res = await request(`${hub}/api/health`);
  if (!res.ok) throw await failure(res, "reading hub health");
  return res.json();
}

/** Streams GET `path` of the hub into `file`; returns the byte count. */
export async function download(hub: string, path: string, file: string): Promise<number> {
  const res = await request(`${hub}${path}`);
  if (!res.ok || !res.body) throw await failure(res, `GET ${path}`);
  let bytes = 0;
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  body.on("data", (c: Buffer) => (bytes += c.length));
  await pipeline(body, createWriteStream(file));
  return bytes;
}
