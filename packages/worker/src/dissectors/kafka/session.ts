// One Kafka connection: length-prefixed framing in each direction, request/response headers,
// and pairing by correlation id.
// Spec: https://kafka.apache.org/protocol#protocol_messages
//
//   RequestOrResponse => Size:INT32 Message
//   Request Header v0 => request_api_key:INT16 request_api_version:INT16 correlation_id:INT32
//   Request Header v1 => v0 client_id:NULLABLE_STRING
//   Request Header v2 => v1 TAG_BUFFER          (client_id stays a non-compact string, KIP-482)
//   Response Header v0 => correlation_id:INT32
//   Response Header v1 => correlation_id:INT32 TAG_BUFFER
//
// A response does not say which API it answers: the request with the same correlation id decides
// its layout, so requests wait in a bounded map until their response arrives.
import { EntryStatus, Protocol } from "@tapline/protocol/enums";
import type { KafkaRequestInit, KafkaResponseInit } from "@tapline/protocol";
import {
  Direction,
  type CloseReason,
  type DissectorSession,
  type Exchange,
  type Feed,
  type SessionContext,
} from "../types.js";
import { apiName, isFlexible, MAX_API_KEY, MAX_PLAUSIBLE_VERSION, requestHeaderVersion, responseHeaderVersion, ApiKey } from "./apis.js";
import { requestReaders, responseReaders, type BodyCtx } from "./messages.js";
import { Reader } from "./wire.js";

/** Kafka's own ceiling (socket.request.max.bytes default, 100 MiB): a larger length prefix is not Kafka. */
export const MAX_MESSAGE_BYTES = 100 * 1024 * 1024;
/** Bytes of an oversize message read for its header before the rest is skipped. */
const HEADER_PEEK = 1024;
/** Smallest request: api_key, api_version, correlation_id, client_id length. */
const MIN_REQUEST = 10;
/** Smallest response: correlation_id. */
const MIN_RESPONSE = 4;

interface Pending {
  req: KafkaRequestInit;
  startNs: number;
  size: number;
  warnings: string[];
}

/** Progress through a message larger than the buffer cap, consumed without being buffered. */
interface Skipping {
  left: number;
}

export class KafkaSession implements DissectorSession {
  private readonly pending = new Map<number, Pending>();
  private readonly skipping: [Skipping, Skipping] = [{ left: 0 }, { left: 0 }];
  private readonly reader = new Reader(Buffer.alloc(0));

  constructor(private readonly ctx: SessionContext) {}

  feed(direction: Direction, data: Buffer, offset: number, firstNs: number, lastNs: number): Feed {
    const avail = data.length - offset;
    const skip = this.skipping[direction];
    if (skip.left > 0) {
      const used = Math.min(skip.left, avail);
      skip.left -= used;
      return { kind: "used", used };
    }
    if (avail < 4) return { kind: "need", atLeast: 4 };
    const size = data.readInt32BE(offset);
    const min = direction === Direction.ClientToServer ? MIN_REQUEST : MIN_RESPONSE;
    if (size < min || size > MAX_MESSAGE_BYTES) {
      this.ctx.count("bad_length");
      return { kind: "bad", reason: `kafka length prefix ${size} outside ${min}..${MAX_MESSAGE_BYTES}`, skip: 0 };
    }
    const total = size + 4;
    if (total > this.ctx.limits.maxBufferBytes) return this.oversize(direction, data, offset, size, firstNs, lastNs);
    if (avail < total) return { kind: "need", atLeast: total };
    const r = this.reader.reset(data, offset + 4, offset + total);
    const bad =
      direction === Direction.ClientToServer ? this.onRequest(r, size, firstNs, []) : this.onResponse(r, size, lastNs, []);
    if (bad) return bad;
    return { kind: "used", used: total };
  }

  /**
   * A message over the buffer cap: its header is read from the first bytes, the rest is consumed
   * as it arrives and never held; the entry carries a warning instead of the body.
   */
  private oversize(direction: Direction, data: Buffer, offset: number, size: number, firstNs: number, lastNs: number): Feed {
    const peek = Math.min(size, HEADER_PEEK);
    const avail = data.length - offset;
    if (avail < 4 + peek) return { kind: "need", atLeast: 4 + peek };
    this.ctx.count("oversize_message");
    const warnings = [`message of ${size} bytes over the ${this.ctx.limits.maxBufferBytes}-byte buffer cap: body not dissected`];
    const r = this.reader.reset(data, offset + 4, offset + 4 + peek);
    const bad =
      direction === Direction.ClientToServer
        ? this.onRequest(r, size, firstNs, warnings, true)
        : this.onResponse(r, size, lastNs, warnings, true);
    if (bad) return bad;
    const used = Math.min(avail, size + 4);
    this.skipping[direction].left = size + 4 - used;
    return { kind: "used", used };
  }

  private onRequest(r: Reader, size: number, startNs: number, warnings: string[], headerOnly = false): Feed | null {
    const apiKey = r.i16();
    const apiVersion = r.i16();
    const correlationId = r.i32();
    if (apiKey < 0 || apiKey > MAX_API_KEY + 32 || apiVersion < 0 || apiVersion > MAX_PLAUSIBLE_VERSION) {
      this.ctx.count("bad_header");
      return { kind: "bad", reason: `implausible kafka request header: api_key ${apiKey} version ${apiVersion}`, skip: 0 };
    }
    const req: KafkaRequestInit = { apiKey, apiVersion, correlationId, apiName: apiName(apiKey), size };
    const hv = requestHeaderVersion(apiKey, apiVersion);
    if (hv >= 1) req.clientId = r.str(false) ?? "";
    r.tags(hv === 2);
    if (!r.ok) {
      this.ctx.count("bad_header");
      return { kind: "bad", reason: "kafka request header runs past its message", skip: 0 };
    }
    if (apiKey > MAX_API_KEY) warnings.push(`unknown api key ${apiKey}: header read as v1, body not dissected`);
    const readBody = requestReaders.get(apiKey);
    if (readBody && !headerOnly) this.readBody(r, apiKey, apiVersion, warnings, (c) => readBody(c, req));
    if (!req.summary) req.summary = describeRequest(req);
    this.ctx.count("requests");
    // Produce with acks=0 gets no response (protocol guide, Produce API): the exchange is complete now.
    if (apiKey === ApiKey.Produce && req.acks === 0 && !headerOnly) {
      warnings.push("acks=0: the broker sends no response");
      this.emit({ req, startNs, size: size + 4, warnings }, null, 0, 0, EntryStatus.COMPLETE);
      return null;
    }
    if (this.pending.has(correlationId)) {
      this.finish(this.pending.get(correlationId)!, EntryStatus.NO_RESPONSE, "correlation id reused before a response");
    }
    if (this.pending.size >= this.ctx.limits.maxPending) {
      const [oldestId, oldest] = this.pending.entries().next().value as [number, Pending];
      this.pending.delete(oldestId);
      this.ctx.count("pending_evicted");
      this.emit(oldest, null, 0, 0, EntryStatus.NO_RESPONSE);
    }
    this.pending.set(correlationId, { req, startNs, size: size + 4, warnings });
    return null;
  }

  private onResponse(r: Reader, size: number, endNs: number, warnings: string[], headerOnly = false): Feed | null {
    const correlationId = r.i32();
    const res: KafkaResponseInit = { correlationId, size };
    const p = this.pending.get(correlationId);
    this.ctx.count("responses");
    if (!p) {
      // mid-stream start or an evicted request: the layout is unknown, keep the header only
      this.ctx.count("unmatched_response");
      res.summary = "response to an unseen request";
      this.ctx.emit({
        protocol: Protocol.KAFKA,
        kafkaResponse: res,
        status: EntryStatus.NO_RESPONSE,
        requestStartNs: 0,
        responseEndNs: endNs,
        requestSize: 0,
        responseSize: size + 4,
        warnings: [...warnings, "response without a matching request (capture started mid-stream?)"],
      });
      return null;
    }
    this.pending.delete(correlationId);
    const { apiKey, apiVersion } = p.req as { apiKey: number; apiVersion: number };
    r.tags(responseHeaderVersion(apiKey, apiVersion) === 1);
    const readBody = responseReaders.get(apiKey);
    if (readBody && !headerOnly && r.ok) this.readBody(r, apiKey, apiVersion, warnings, (c) => readBody(c, res));
    if (!res.summary) res.summary = res.errorName || (apiKey === ApiKey.Fetch || apiKey === ApiKey.Produce ? describeResponse(res) : "");
    p.warnings.push(...warnings);
    this.emit(p, res, endNs, size + 4, EntryStatus.COMPLETE);
    return null;
  }

  private readBody(r: Reader, apiKey: number, apiVersion: number, warnings: string[], read: (c: BodyCtx) => void): void {
    const c: BodyCtx = { r, v: apiVersion, flex: isFlexible(apiKey, apiVersion), limits: this.ctx.limits, items: this.ctx.limits.maxItems, warnings };
    read(c);
    if (!r.ok) {
      this.ctx.count("bad_body");
      warnings.push(`malformed ${apiName(apiKey)} v${apiVersion} body`);
    }
  }

  private finish(p: Pending, status: EntryStatus, warning?: string): void {
    this.pending.delete(p.req.correlationId as number);
    if (warning) p.warnings.push(warning);
    this.emit(p, null, 0, 0, status);
  }

  private emit(p: Pending, res: KafkaResponseInit | null, endNs: number, resSize: number, status: EntryStatus): void {
    const ex: Exchange = {
      protocol: Protocol.KAFKA,
      kafkaRequest: p.req,
      status,
      requestStartNs: p.startNs,
      responseEndNs: endNs,
      requestSize: p.size,
      responseSize: resSize,
    };
    if (res) ex.kafkaResponse = res;
    if (p.warnings.length > 0) ex.warnings = p.warnings;
    this.ctx.emit(ex);
  }

  close(reason: CloseReason): void {
    const status =
      reason === "rst" ? EntryStatus.CONNECTION_RESET : reason === "fin" ? EntryStatus.CLOSED_EARLY : EntryStatus.NO_RESPONSE;
    for (const p of [...this.pending.values()]) this.finish(p, status);
  }

  expire(nowNs: number, timeoutNs: number): void {
    // Map order is arrival order, so the oldest requests come first.
    for (const p of [...this.pending.values()]) {
      if (nowNs - p.startNs < timeoutNs) break;
      this.finish(p, EntryStatus.NO_RESPONSE);
    }
  }
}

function topicList(topics: KafkaRequestInit["topics"]): string {
  return (topics ?? []).map((t) => t.name).join(",");
}

function describeRequest(req: KafkaRequestInit): string {
  const parts = [`${req.apiName} v${req.apiVersion}`];
  const topics = topicList(req.topics);
  if (topics) parts.push(topics);
  if (req.groupId) parts.push(`group ${req.groupId}`);
  const records = countRecords(req.topics);
  if (records > 0) parts.push(`${records} records`);
  return parts.join(" ");
}

function describeResponse(res: KafkaResponseInit): string {
  const records = countRecords(res.topics);
  return records > 0 ? `${records} records` : "";
}

function countRecords(topics: KafkaRequestInit["topics"]): number {
  let n = 0;
  for (const t of topics ?? []) for (const p of t.partitions ?? []) n += p.recordCount ?? 0;
  return n;
}
