// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) of HTTP/1.x, HTTP/2 and gRPC entries.
// Bodies are the stored (redacted) ones; binary bodies are base64 with content.encoding.
import type { BodyInit, EntryInit, HeaderInit } from "@tapline/protocol";

export interface Har {
  log: { version: "1.2"; creator: { name: string; version: string }; entries: Record<string, unknown>[] };
}

export function harLog(version: string, entries: Record<string, unknown>[]): Har {
  return { log: { version: "1.2", creator: { name: "tapline", version }, entries } };
}

export function isHttpEntry(e: EntryInit): boolean {
  return !!e.httpRequest;
}

export function harEntry(e: EntryInit): Record<string, unknown> {
  const req = e.httpRequest!;
  const res = e.httpResponse;
  const scheme = req.scheme || (e.tls ? "https" : "http");
  const host = req.host || headerValue(req.headers, "host") || headerValue(req.headers, ":authority") || `${e.dst?.ip ?? ""}:${e.dst?.port ?? 0}`;
  const path = req.path || "/";
  const url = `${scheme}://${host}${path.startsWith("/") ? path : `/${path}`}`;
  const reqBody = req.body?.data && req.body.data.length > 0 ? req.body : undefined;
  const elapsed = e.elapsedMs ?? 0;
  return {
    startedDateTime: new Date(Math.floor((e.timestampNs ?? 0) / 1e6)).toISOString(),
    time: elapsed,
    request: {
      method: req.method || "GET",
      url,
      httpVersion: req.version || "HTTP/1.1",
      cookies: [],
      headers: headers(req.headers),
      queryString: queryString(path),
      ...(reqBody ? { postData: { mimeType: reqBody.contentType || headerValue(req.headers, "content-type") || "application/octet-stream", text: bodyText(reqBody).text } } : {}),
      headersSize: -1,
      bodySize: Number(req.body?.size ?? 0),
    },
    response: {
      status: res?.status ?? 0,
      statusText: res?.reason ?? "",
      httpVersion: res?.version || req.version || "HTTP/1.1",
      cookies: [],
      headers: headers(res?.headers),
      content: content(res?.body, headerValue(res?.headers, "content-type")),
      redirectURL: headerValue(res?.headers, "location"),
      headersSize: -1,
      bodySize: res ? Number(res.body?.size ?? 0) : -1,
    },
    cache: {},
    timings: { send: 0, wait: elapsed, receive: 0 },
    serverIPAddress: e.dst?.ip ?? "",
    connection: `${e.src?.port ?? 0}`,
    comment: e.id ?? "",
  };
}

function headers(list: HeaderInit[] | null | undefined): { name: string; value: string }[] {
  return (list ?? []).map((h) => ({ name: h.name ?? "", value: h.value ?? "" }));
}

function headerValue(list: HeaderInit[] | null | undefined, name: string): string {
  for (const h of list ?? []) if ((h.name ?? "").toLowerCase() === name) return h.value ?? "";
  return "";
}

function queryString(path: string): { name: string; value: string }[] {
  const q = path.indexOf("?");
  if (q < 0) return [];
  const out: { name: string; value: string }[] = [];
  for (const part of path.slice(q + 1).split("#")[0].split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    out.push({ name: safeDecode(eq < 0 ? part : part.slice(0, eq)), value: eq < 0 ? "" : safeDecode(part.slice(eq + 1)) });
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

function bodyText(body: BodyInit): { text: string; encoding?: string } {
  const data = Buffer.from(body.data ?? new Uint8Array());
  const text = data.toString("utf8");
  // Not valid UTF-8 (replacement characters appeared): carry the bytes as base64.
  if (text.includes("\ufffd") && !data.includes(Buffer.from("\ufffd"))) return { text: data.toString("base64"), encoding: "base64" };
  return { text };
}

function content(body: BodyInit | null | undefined, contentType: string): Record<string, unknown> {
  const mimeType = body?.contentType || contentType || "application/octet-stream";
  if (!body?.data || body.data.length === 0) return { size: Number(body?.size ?? 0), mimeType };
  const { text, encoding } = bodyText(body);
  return { size: Number(body.decodedSize || body.size || body.data.length), mimeType, text, ...(encoding ? { encoding } : {}) };
}
