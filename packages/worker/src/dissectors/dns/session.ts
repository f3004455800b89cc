// DNS pairing: queries wait by id (and first question) until the response with the same id
// arrives; unanswered ones leave as NO_RESPONSE on expire/close. One session serves a UDP flow
// (datagram per message) or a TCP connection (two-octet length prefix, RFC 1035 §4.2.2).
import { EntryStatus, Protocol } from "@tapline/protocol/enums";
import type { DnsRequestInit } from "@tapline/protocol";
import { Direction, type CloseReason, type DissectorSession, type Feed, type SessionContext } from "../types.js";
import { parseMessage, toRequest, toResponse, type DnsMessage } from "./wire.js";

interface Pending {
  req: DnsRequestInit;
  key: string;
  startNs: number;
  size: number;
}

const key = (m: DnsMessage): string => `${m.id}/${m.questions[0]?.name.toLowerCase() ?? ""}/${m.questions[0]?.type ?? ""}`;

export class DnsSession implements DissectorSession {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly tcp: boolean,
  ) {}

  datagram(_direction: Direction, data: Buffer, tsNs: number): void {
    this.message(data, 0, data.length, tsNs);
  }

  feed(_direction: Direction, data: Buffer, offset: number, firstNs: number, lastNs: number): Feed {
    const avail = data.length - offset;
    if (avail < 2) return { kind: "need", atLeast: 2 };
    const len = data.readUInt16BE(offset);
    if (len < 12) {
      this.ctx.count("bad_length");
      return { kind: "bad", reason: `DNS over TCP length ${len} shorter than a header`, skip: 0 };
    }
    if (avail < 2 + len) return { kind: "need", atLeast: 2 + len };
    // a query's time is its first byte, a response's its last
    this.message(data, offset + 2, offset + 2 + len, data[offset + 4]! & 0x80 ? lastNs : firstNs);
    return { kind: "used", used: 2 + len };
  }

  private message(data: Buffer, start: number, end: number, tsNs: number): void {
    const m = parseMessage(data, start, end, this.ctx.limits.maxItems);
    const size = end - start + (this.tcp ? 2 : 0);
    if (typeof m === "string") {
      this.ctx.count("bad_message");
      return;
    }
    if (!m.response) {
      this.ctx.count("queries");
      const k = key(m);
      const old = this.pending.get(k);
      if (old) {
        // a retransmitted query (same id and question): the first one's time is kept
        old.size += size;
        this.ctx.count("retransmitted_queries");
        return;
      }
      if (this.pending.size >= this.ctx.limits.maxPending) {
        const first = this.pending.values().next().value as Pending;
        this.ctx.count("pending_evicted");
        this.finish(first, EntryStatus.NO_RESPONSE);
      }
      this.pending.set(k, { req: toRequest(m), key: k, startNs: tsNs, size });
      return;
    }
    this.ctx.count("responses");
    const p = this.pending.get(key(m)) ?? (m.questions.length === 0 ? this.byId(m.id) : undefined);
    if (!p) {
      this.ctx.count("unmatched_response");
      this.ctx.emit({
        protocol: Protocol.DNS,
        dnsResponse: toResponse(m),
        status: EntryStatus.NO_RESPONSE,
        requestStartNs: 0,
        responseEndNs: tsNs,
        requestSize: 0,
        responseSize: size,
        warnings: ["response without a matching query (capture started after it?)"],
      });
      return;
    }
    this.pending.delete(p.key);
    this.ctx.emit({
      protocol: Protocol.DNS,
      dnsRequest: p.req,
      dnsResponse: toResponse(m),
      status: EntryStatus.COMPLETE,
      requestStartNs: p.startNs,
      responseEndNs: tsNs,
      requestSize: p.size,
      responseSize: size,
    });
  }

  /** A response without a question section (allowed for some errors) is matched by id alone. */
  private byId(id: number): Pending | undefined {
    for (const p of this.pending.values()) if (p.req.id === id) return p;
    return undefined;
  }

  private finish(p: Pending, status: EntryStatus): void {
    this.pending.delete(p.key);
    this.ctx.emit({ protocol: Protocol.DNS, dnsRequest: p.req, status, requestStartNs: p.startNs, responseEndNs: 0, requestSize: p.size, responseSize: 0 });
  }

  close(reason: CloseReason): void {
    // UDP has no connection: an unanswered query simply got no response
    const status = !this.tcp ? EntryStatus.NO_RESPONSE : reason === "rst" ? EntryStatus.CONNECTION_RESET : reason === "fin" ? EntryStatus.CLOSED_EARLY : EntryStatus.NO_RESPONSE;
    for (const p of [...this.pending.values()]) this.finish(p, status);
  }

  expire(nowNs: number, timeoutNs: number): void {
    for (const p of [...this.pending.values()]) {
      if (nowNs - p.startNs < timeoutNs) break;
      this.finish(p, EntryStatus.NO_RESPONSE);
    }
  }
}
