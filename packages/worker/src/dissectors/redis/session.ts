// One Redis connection: a RESP reader per direction and FIFO pairing of replies with commands.
// Out-of-band data is not a reply: RESP3 push values (">"), and RESP2 "message"/"pmessage"/
// "smessage" arrays while the connection is subscribed. (Un)subscribe confirmations (one per
// channel) answer the (UN)SUBSCRIBE at the head of the queue.
import { EntryStatus, Protocol, RedisKind } from "@tapline/protocol/enums";
import type { RedisRequestInit, RedisResponseInit, RedisValueInit } from "@tapline/protocol";
import type { CloseReason, DissectorSession, Exchange, Feed, SessionContext } from "../types.js";
import { Direction } from "../types.js";
import { SUBSCRIBE_FAMILY, toRequest } from "./commands.js";
import { RespReader } from "./wire.js";

/** Bytes of each command argument kept in an entry. */
export const ARG_CAP = 1024;

interface Pending {
  req: RedisRequestInit;
  startNs: number;
  size: number;
  /** For the (un)subscribe family: the confirmation kind expected and how many are left (-1: until count 0). */
  confirm?: string;
  confirmsLeft: number;
  firstReply?: RedisValueInit;
}

const PUSH_KINDS = new Set(["message", "pmessage", "smessage"]);

function firstText(v: RedisValueInit): string {
  const e = v.elements?.[0];
  return e?.text?.toLowerCase() ?? "";
}

class Side {
  size = 0;
  startNs = 0;
  stopped = false;
  constructor(readonly reader: RespReader) {}
}

export class RedisSession implements DissectorSession {
  private readonly client: Side;
  private readonly server: Side;
  private readonly pending: Pending[] = [];
  private subscribed = false;

  constructor(private readonly ctx: SessionContext) {
    const { maxItems, maxBodyBytes } = ctx.limits;
    this.client = new Side(new RespReader(Math.min(ARG_CAP, maxBodyBytes), maxItems + 2, true));
    this.server = new Side(new RespReader(maxBodyBytes, maxItems, false));
  }

  feed(direction: Direction, data: Buffer, offset: number, firstNs: number, lastNs: number): Feed {
    const side = direction === Direction.ClientToServer ? this.client : this.server;
    if (side.stopped) return { kind: "bad", reason: "not RESP", skip: 0 };
    const r = side.reader;
    if (!r.busy) side.startNs = firstNs;
    const used = r.read(data, offset);
    side.size += used;
    if (r.error !== undefined) {
      side.stopped = true;
      this.ctx.count("bad_message");
      return { kind: "bad", reason: r.error, skip: 0 };
    }
    if (r.value) {
      const size = side.size;
      side.size = 0;
      if (side === this.client) this.onRequest(r.value, r.inline, side.startNs, size);
      else this.onReply(r.value, lastNs, size, r.attributes);
      r.attributes = 0;
    }
    return used > 0 ? { kind: "used", used } : { kind: "need", atLeast: data.length - offset + 1 };
  }

  private onRequest(v: RedisValueInit, inline: string[] | undefined, startNs: number, size: number): void {
    const words = inline ?? (v.elements ?? []).map((e) => e.text ?? String(e.integer ?? ""));
    const req = toRequest(words, this.ctx.limits.maxItems, ARG_CAP, inline !== undefined);
    const p: Pending = { req, startNs, size, confirmsLeft: 0 };
    const confirm = SUBSCRIBE_FAMILY.get(req.command!);
    if (confirm) {
      p.confirm = confirm;
      p.confirmsLeft = words.length > 1 ? words.length - 1 : -1;
    }
    this.pending.push(p);
    while (this.pending.length > this.ctx.limits.maxPending) {
      this.emit(this.pending.shift(), undefined, 0, 0, EntryStatus.NO_RESPONSE, ["pending command limit reached"]);
    }
  }

  private onReply(v: RedisValueInit, endNs: number, size: number, attributes: number): void {
    const warnings = attributes ? [`${attributes} RESP3 attribute(s) not kept`] : [];
    const aggregate = v.kind === RedisKind.ARRAY || v.kind === RedisKind.PUSH;
    const kind = aggregate ? firstText(v) : "";
    const head = this.pending[0];
    if (aggregate && head?.confirm === kind) {
      // (un)subscribe confirmation: [kind, channel, subscription count]
      const count = v.elements?.[2]?.integer ?? 0;
      this.subscribed = count > 0;
      head.firstReply ??= v;
      const done = head.confirmsLeft > 0 ? --head.confirmsLeft === 0 : count === 0;
      if (done) {
        this.pending.shift();
        this.emit(head, head.firstReply, endNs, size, EntryStatus.COMPLETE, warnings);
      }
      return;
    }
    if (v.kind === RedisKind.PUSH || (this.subscribed && v.kind === RedisKind.ARRAY && PUSH_KINDS.has(kind))) {
      this.ctx.count("push");
      this.emit(undefined, v, endNs, size, EntryStatus.COMPLETE, [`push message (${kind || "out of band"}), not a reply`, ...warnings]);
      return;
    }
    const p = this.pending.shift();
    if (!p) warnings.unshift("reply without a command (capture began mid-stream)");
    this.emit(p, v, endNs, size, EntryStatus.COMPLETE, warnings);
  }

  private emit(p: Pending | undefined, v: RedisValueInit | undefined, endNs: number, respSize: number, status: EntryStatus, warnings: string[]): void {
    const ex: Exchange = {
      protocol: Protocol.REDIS,
      status,
      requestStartNs: p?.startNs ?? 0,
      responseEndNs: v ? endNs : 0,
      requestSize: p?.size ?? 0,
      responseSize: v ? respSize : 0,
    };
    if (p) ex.redisRequest = p.req;
    if (v) {
      const resp: RedisResponseInit = { value: v };
      if (v.kind === RedisKind.ERROR || v.kind === RedisKind.BULK_ERROR) resp.error = true;
      ex.redisResponse = resp;
    }
    if (warnings.length) ex.warnings = warnings;
    this.ctx.emit(ex);
  }

  close(reason: CloseReason): void {
    const status =
      reason === "rst" ? EntryStatus.CONNECTION_RESET : reason === "fin" ? EntryStatus.CLOSED_EARLY : EntryStatus.NO_RESPONSE;
    const cut = this.server.reader.busy ? ["reply cut short"] : [];
    for (const p of this.pending.splice(0)) {
      // QUIT is answered with +OK, but a subscriber's pending confirmations may just stop
      this.emit(p, p.firstReply, 0, 0, p.firstReply ? EntryStatus.COMPLETE : status, p.firstReply ? [] : cut);
    }
    if (this.client.reader.busy) this.ctx.count("request_cut_short");
    this.client.stopped = this.server.stopped = true;
  }

  expire(nowNs: number, timeoutNs: number): void {
    while (this.pending.length && !this.server.reader.busy) {
      const p = this.pending[0];
      if (p.startNs > nowNs - timeoutNs || p.firstReply) break;
      this.pending.shift();
      this.emit(p, undefined, 0, 0, EntryStatus.NO_RESPONSE, ["no reply before the pairing timeout"]);
    }
  }
}
