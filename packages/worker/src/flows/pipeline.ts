// The flow table and driver: packets in, entries out.
//
// packet -> decode (link, IP, fragments, TCP/UDP) -> flow lookup -> per-direction reassembly
// (tcp/HalfStream) -> protocol detection (port hint first, then by content, capped) ->
// DissectorSession.feed loop -> Exchange -> Entry.
//
// Every call into a dissector goes through one try/catch here (like gopacket's panicToError):
// an exception is a dissector bug, counted, and ends dissection of that flow only.
import { EntryStatus, Protocol } from "@tapline/protocol/enums";
import type { EndpointInit, EntryInit, WorkerStatsInit } from "@tapline/protocol";
import {
  decodeLinkAt,
  decodeTcp,
  decodeUdp,
  FragmentTable,
  IpProto,
  ipv4ToString,
  ipv6ToString,
  newPacketInfo,
  TcpFlag,
  type PacketInfo,
} from "../decode/index.js";
import {
  defaultLimits,
  Direction,
  type CloseReason,
  type DissectLimits,
  type Dissector,
  type DissectorSession,
  type Exchange,
  type SessionContext,
} from "../dissectors/types.js";
import { ByteBudget, HalfStream, newHandshakeState, transportOutcome, type HalfStreamSink, type HalfStreamStats, type HandshakeState } from "../tcp/index.js";
import { DirBuffer } from "./dirbuffer.js";
import { FlowTable4, type Chained4 } from "./flowtable4.js";

export interface FlowLimits {
  /** Bytes one flow may hold (out-of-order queue plus unconsumed bytes of both directions). */
  maxFlowBytes: number;
  /** Bytes all flows together may hold; a flow that would pass it is dropped. */
  maxTotalBytes: number;
  /** Flows tracked at once; the oldest is evicted beyond it. */
  maxFlows: number;
  /** A flow without packets for this long is closed ("idle"). */
  idleTimeoutNs: number;
  /** A hole in a direction is waited for this long, then skipped and reported as a gap. */
  gapTimeoutNs: number;
  /** Requests without a response for this long are emitted as NO_RESPONSE (DissectorSession.expire). */
  pairingTimeoutNs: number;
}

export const defaultFlowLimits: FlowLimits = {
  maxFlowBytes: 4 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  maxFlows: 100_000,
  idleTimeoutNs: 120e9,
  gapTimeoutNs: 2e9,
  pairingTimeoutNs: 60e9,
};

export interface PipelineOptions {
  workerId: string;
  node?: string;
  dissectors: readonly Dissector[];
  limits?: Partial<DissectLimits>;
  flowLimits?: Partial<FlowLimits>;
  onEntry(entry: EntryInit): void;
}

export interface DissectorStats {
  messages: number;
  errors: number;
  /** Exceptions that escaped the dissector (bugs). */
  bugs: number;
  counters: Record<string, number>;
}

export interface PipelineStats extends HalfStreamStats {
  packets: number;
  bytes: number;
  /** Frames that are not IP/TCP/UDP or too short for their headers. */
  undecodable: number;
  flowsActive: number;
  flowsTotal: number;
  /** Flows dropped for passing a byte cap (their buffered bytes are in bytesDropped). */
  flowsDropped: number;
  flowsEvicted: number;
  bytesDropped: number;
  /** Flows whose protocol was not identified (every dissector said no, or the detect cap was hit). */
  flowsUndetected: number;
  entries: number;
  /** Bytes held in flow buffers and reassembly queues now, and at most so far. */
  bytesHeld: number;
  bytesHeldPeak: number;
  fragments: number;
  fragmentsDropped: number;
  dissectors: Record<string, DissectorStats>;
  /** The message of the last exception that escaped a dissector, for logs. */
  lastBug: string;
}

const enum State {
  Detecting,
  Dissecting,
  /** No dissector: only the handshake is tracked (for a transport-only entry). */
  Passive,
  /** Over a cap: bytes are dropped and counted until the flow ends. */
  Dropped,
}

class Flow implements Chained4 {
  state = State.Detecting;
  dissector: Dissector | null = null;
  session: DissectorSession | null = null;
  /** Direction index (0 = the endpoint that sent the first packet) whose sender is the client; -1 unknown. */
  clientDir = -1;
  readonly hs: HandshakeState = newHandshakeState();
  readonly bufs: [DirBuffer, DirBuffer] = [new DirBuffer(), new DirBuffer()];
  streams!: [HalfStream, HalfStream];
  /** Per direction: bit i set when candidate i said "no". */
  excluded = [0, 0];
  /** Bit per direction that sent a FIN. */
  fins = 0;
  entries = 0;
  /** Warning put on the exchanges emitted while a gap closes the session. */
  warning = "";
  /** Warning put on the next exchange emitted (the first after a gap). */
  nextWarning = "";
  /** Why dissection stopped (bad input with skip 0, a dissector bug), for the transport-only entry. */
  stopReason = "";
  lastNs: number;
  endpoints: [EndpointInit, EndpointInit] | null = null;
  /** IPv4 TCP flows: the FlowTable4 chain. */
  next4: Chained4 | null = null;
  hash4 = 0;
  /** Loopback of a meshed pod: its network namespace (PacketInfo.meshNs), else 0. */
  meshNs = 0;
  constructor(
    readonly tcp: boolean,
    /** The addresses as decoded (IPv4: a number, IPv6: hex), made text only for entries. */
    readonly ips: [number | string, number | string],
    readonly ports: [number, number],
    /** Dissectors to try, port-hinted first. */
    readonly candidates: readonly Dissector[],
    readonly keyA: number | string,
    readonly keyB: number | string,
    tsNs: number,
    /** Plaintext from TLS uprobes: a flow of its own, apart from the same 4-tuple's ciphertext. */
    readonly tls = false,
  ) {
    this.lastNs = tsNs;
  }

  /** Bytes held by this flow: unconsumed buffers and out-of-order queues. */
  held(): number {
    let n = this.bufs[0].held + this.bufs[1].held;
    if (this.streams) n += this.streams[0].queuedBytes + this.streams[1].queuedBytes;
    return n;
  }

  direction(dir: number): Direction {
    return dir === this.clientDir ? Direction.ClientToServer : Direction.ServerToClient;
  }

  /** Orientation when neither a SYN nor detection told: the lower (well-known) port is the server. */
  guessClient(): void {
    if (this.clientDir >= 0) return;
    const [p0, p1] = this.ports;
    const wk0 = p0 < 1024;
    const wk1 = p1 < 1024;
    this.clientDir = wk0 !== wk1 ? (wk0 ? 1 : 0) : p0 <= p1 ? 1 : 0;
  }
}

export class Pipeline {
  readonly limits: DissectLimits;
  readonly flowLimits: FlowLimits;
  private readonly stats: PipelineStats;
  private readonly tcpFlows4 = new FlowTable4<Flow>();
  private readonly tlsFlows4 = new FlowTable4<Flow>();
  private readonly flowsByString = new Map<string, Flow>();
  private readonly udpFlows = new Map<string, Flow>();
  /** All live flows in creation order (for idle scans and eviction). */
  private readonly all = new Set<Flow>();
  private readonly budget: ByteBudget;
  private readonly fragments = new FragmentTable();
  private readonly pkt: PacketInfo = newPacketInfo();
  private readonly tcpDissectors: Dissector[];
  private readonly udpDissectors: Dissector[];
  private readonly byPort = new Map<string, Dissector[]>();
  private nextScanNs = 0;
  private evictCursor: Iterator<Flow> | null = null;
  private seq = 0;
  private nowNs = 0;

  constructor(private readonly opts: PipelineOptions) {
    this.limits = { ...defaultLimits, ...opts.limits };
    this.flowLimits = { ...defaultFlowLimits, ...opts.flowLimits };
    this.budget = new ByteBudget(this.flowLimits.maxTotalBytes);
    this.tcpDissectors = opts.dissectors.filter((d) => d.transport === "tcp");
    this.udpDissectors = opts.dissectors.filter((d) => d.transport === "udp");
    const dissectors: Record<string, DissectorStats> = {};
    for (const d of opts.dissectors) dissectors[d.name] = { messages: 0, errors: 0, bugs: 0, counters: {} };
    this.stats = {
      packets: 0,
      bytes: 0,
      undecodable: 0,
      flowsActive: 0,
      flowsTotal: 0,
      flowsDropped: 0,
      flowsEvicted: 0,
      bytesDropped: 0,
      flowsUndetected: 0,
      entries: 0,
      bytesHeld: 0,
      bytesHeldPeak: 0,
      fragments: 0,
      fragmentsDropped: 0,
      retransmitted: 0,
      outOfOrder: 0,
      overlapBytes: 0,
      gaps: 0,
      gapBytes: 0,
      dissectors,
      lastBug: "",
    };
  }

  /** One captured frame. `data` is only read during the call. Never throws on any bytes. */
  pushPacket(linktype: number, tsNs: number, data: Buffer): void {
    this.pushPacketAt(linktype, tsNs, data, 0, data.length);
  }

  /** pushPacket of the frame data[start, end) (a reader's PacketRangeHandler: no view per packet). */
  pushPacketAt(linktype: number, tsNs: number, data: Buffer, start: number, end: number): void {
    const st = this.stats;
    st.packets++;
    st.bytes += end - start;
    if (tsNs > this.nowNs) this.nowNs = tsNs;
    if (this.nowNs >= this.nextScanNs) this.scan(this.nowNs);
    const p = this.pkt;
    if (!decodeLinkAt(linktype, data, start, end, p)) {
      st.undecodable++;
      return;
    }
    if (p.fragOffset !== 0 || p.moreFragments) {
      const done = this.fragments.add(p, tsNs);
      st.fragments = this.fragments.stats.fragments;
      st.fragmentsDropped = this.fragments.stats.dropped;
      if (!done) return;
    }
    if (p.proto === IpProto.TCP) {
      if (!decodeTcp(p)) st.undecodable++;
      else this.tcpPacket(p, tsNs);
    } else if (p.proto === IpProto.UDP) {
      if (!decodeUdp(p)) st.undecodable++;
      else this.udpPacket(p, tsNs);
    } else st.undecodable++;
  }

  /**
   * The clock moved without packets (live capture on a quiet link): `nowNs` is wall-clock time in
   * the capture's timebase. Idle flows close, pairing timeouts and old holes fire as if a packet
   * had arrived then. Never moves time backwards.
   */
  tick(nowNs: number): void {
    if (nowNs > this.nowNs) this.nowNs = nowNs;
    if (this.nowNs >= this.nextScanNs) this.scan(this.nowNs);
  }

  /** The capture ended: flushes queued segments and closes every flow ("capture-end"). */
  finish(): void {
    for (const flow of [...this.all]) this.close(flow, "capture-end", this.nowNs);
  }

  getStats(): PipelineStats {
    this.stats.flowsActive = this.all.size;
    this.stats.bytesHeld = this.budget.used;
    this.stats.bytesHeldPeak = this.budget.peak;
    return this.stats;
  }

  /** The counters in the shape of the WorkerStats message. */
  workerStats(): WorkerStatsInit {
    const s = this.getStats();
    return {
      workerId: this.opts.workerId,
      node: this.opts.node ?? "",
      timestampNs: this.nowNs,
      packetsSeen: s.packets,
      bytesSeen: s.bytes,
      flowsActive: s.flowsActive,
      flowsTotal: s.flowsTotal,
      flowsDropped: s.flowsDropped,
      bytesDropped: s.bytesDropped,
      dissectors: Object.entries(s.dissectors).map(([name, d]) => ({ name, messages: d.messages, errors: d.errors + d.bugs })),
    };
  }

  // ---- TCP ----

  private tcpPacket(p: PacketInfo, tsNs: number): void {
    const flags = p.tcpFlags;
    const hasPayload = p.payloadEnd > p.payloadOff;
    let flow: Flow | undefined;
    let dir = 0;
    if (p.ipVersion === 4 && p.meshNs === 0) {
      const a = p.src4 * 65536 + p.srcPort;
      const b = p.dst4 * 65536 + p.dstPort;
      const flows4 = p.tls ? this.tlsFlows4 : this.tcpFlows4;
      flow = flows4.get(a, b, flows4.hash(p.src4, p.srcPort, p.dst4, p.dstPort));
      if (flow) dir = flow.keyA === a ? 0 : 1;
    } else {
      const a = p.ipVersion === 4 ? p.src4 * 65536 + p.srcPort : `${p.src6}.${p.srcPort}`;
      const b = p.ipVersion === 4 ? p.dst4 * 65536 + p.dstPort : `${p.dst6}.${p.dstPort}`;
      flow = this.flowsByString.get(flowKey(a, b, p.tls, p.meshNs));
      if (flow) dir = flow.keyA === a ? 0 : 1;
    }
    const synOnly = (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    if (flow && synOnly && (flow.hs.payload[0] + flow.hs.payload[1] > 0 || flow.hs.rstFrom >= 0 || flow.fins !== 0)) {
      // A new connection reusing the 4-tuple (RFC 9293 §3.10.7.4, TIME-WAIT reuse): end the old one.
      this.close(flow, "fin", tsNs);
      flow = undefined;
    }
    if (!flow) {
      // Only a SYN or data starts a flow; a stray ACK/FIN/RST after a close does not.
      if (!(flags & TcpFlag.SYN) && !hasPayload) return;
      flow = this.newFlow(p, true, tsNs);
      dir = 0;
    }
    flow.lastNs = tsNs;
    const hs = flow.hs;
    const stream = flow.streams[dir];
    if (flags & TcpFlag.SYN) {
      if (flags & TcpFlag.ACK) {
        hs.synAckSeen = true;
        if (flow.clientDir < 0) flow.clientDir = 1 - dir;
      } else {
        if (hs.synFrom < 0) hs.synFrom = dir;
        if (flow.clientDir < 0) flow.clientDir = dir;
      }
      stream.syn(p.seq);
      if (!hasPayload) return;
      p.seq = (p.seq + 1) >>> 0; // data on a SYN (TCP Fast Open) starts after the ISN
    }
    if (flags & TcpFlag.RST) {
      if (hs.rstFrom < 0) hs.rstFrom = dir;
      this.close(flow, "rst", tsNs);
      return;
    }
    if (flags & TcpFlag.FIN) flow.fins |= 1 << dir;
    if (flags & TcpFlag.ACK && (flow.state === State.Detecting || flow.state === State.Dissecting)) {
      const other = flow.streams[1 - dir];
      if (other.queuedBytes > 0) other.skipAcked(p.ack);
    }
    if (flow.state === State.Dropped || flow.state === State.Passive) {
      // Nothing to reassemble: count the bytes for the transport outcome only.
      hs.payload[dir] += p.payloadEnd - p.payloadOff;
      if (flow.state === State.Dropped) this.stats.bytesDropped += p.payloadEnd - p.payloadOff;
    } else if (hasPayload || flags & TcpFlag.FIN) {
      if (stream.oldestQueuedNs >= 0 && tsNs - stream.oldestQueuedNs > this.flowLimits.gapTimeoutNs) {
        stream.skipHole(tsNs, this.flowLimits.gapTimeoutNs);
      }
      // A hole holding back as many bytes as the flow may hold is skipped before queuing more.
      if (stream.queuedBytes > 0 && flow.held() + p.payloadEnd - p.payloadOff > this.flowLimits.maxFlowBytes) stream.skipHole(tsNs, 0, true);
      if (!stream.segment(p.seq, p.l4, p.payloadOff, p.payloadEnd, tsNs, (flags & TcpFlag.FIN) !== 0)) {
        this.drop(flow, "out-of-order bytes over the global cap");
      } else if (flow.held() > this.flowLimits.maxFlowBytes) {
        // A hole held too many bytes behind it: skip it rather than buffer without bound.
        stream.skipHole(tsNs, 0, true);
        if (flow.held() > this.flowLimits.maxFlowBytes) this.drop(flow, "flow byte cap");
      }
    }
    if (flow.fins === 3) this.close(flow, "fin", tsNs);
  }

  private newFlow(p: PacketInfo, tcp: boolean, tsNs: number): Flow {
    if (this.all.size >= this.flowLimits.maxFlows) {
      const oldest = this.oldest();
      if (oldest) {
        this.stats.flowsEvicted++;
        this.close(oldest, "evicted", tsNs);
      }
    }
    const v4 = p.ipVersion === 4;
    const ips: [number | string, number | string] = v4 ? [p.src4, p.dst4] : [p.src6, p.dst6];
    const keyA = v4 ? p.src4 * 65536 + p.srcPort : `${p.src6}.${p.srcPort}`;
    const keyB = v4 ? p.dst4 * 65536 + p.dstPort : `${p.dst6}.${p.dstPort}`;
    const flow = new Flow(tcp, ips, [p.srcPort, p.dstPort], this.candidatesFor(tcp, p.srcPort, p.dstPort), keyA, keyB, tsNs, p.tls);
    if (tcp) {
      flow.streams = [new HalfStream(new FlowSink(this, flow, 0), this.budget, this.stats), new HalfStream(new FlowSink(this, flow, 1), this.budget, this.stats)];
      flow.meshNs = p.meshNs;
      if (v4 && p.meshNs === 0) {
        const flows4 = flow.tls ? this.tlsFlows4 : this.tcpFlows4;
        flows4.add(flow, flows4.hash(p.src4, p.srcPort, p.dst4, p.dstPort));
      } else this.flowsByString.set(flowKey(keyA, keyB, flow.tls, flow.meshNs), flow);
    } else this.udpFlows.set(flowKey(keyA, keyB), flow);
    this.all.add(flow);
    this.stats.flowsTotal++;
    return flow;
  }

  /**
   * The oldest live flow. One iterator is kept across evictions: a fresh `all.values()` would step
   * over every deleted slot at the front of the Set's table on each call, which made a SYN flood
   * past maxFlows quadratic (1M SYNs: 278 s; found by test/robustness). A live Set iterator skips
   * deleted flows and reaches flows added after it was made.
   */
  private oldest(): Flow | undefined {
    for (let pass = 0; pass < 2; pass++) {
      this.evictCursor ??= this.all.values();
      const r = this.evictCursor.next();
      if (!r.done) return r.value;
      this.evictCursor = null;
    }
    return undefined;
  }

  private candidatesFor(tcp: boolean, p0: number, p1: number): readonly Dissector[] {
    const list = tcp ? this.tcpDissectors : this.udpDissectors;
    const cacheKey = `${tcp ? "t" : "u"}${Math.min(p0, p1)}.${Math.max(p0, p1)}`;
    let out = this.byPort.get(cacheKey);
    if (!out) {
      const hinted = list.filter((d) => d.defaultPorts.includes(p0) || d.defaultPorts.includes(p1));
      out = [...hinted, ...list.filter((d) => !hinted.includes(d))];
      if (this.byPort.size < 4096) this.byPort.set(cacheKey, out);
    }
    return out;
  }

  private unlink(flow: Flow): void {
    if (!this.all.delete(flow)) return;
    const { keyA, keyB } = flow;
    if (!flow.tcp) this.udpFlows.delete(flowKey(keyA, keyB));
    else if (typeof keyA === "number" && flow.meshNs === 0) (flow.tls ? this.tlsFlows4 : this.tcpFlows4).remove(flow);
    else this.flowsByString.delete(flowKey(keyA, keyB, flow.tls, flow.meshNs));
  }

  /** In-order bytes of one direction from the reassembler (through FlowSink). */
  bytes(flow: Flow, dir: number, buf: Buffer, off: number, end: number, tsNs: number): void {
    flow.hs.payload[dir] += end - off;
    switch (flow.state) {
      case State.Detecting: {
        const b = flow.bufs[dir];
        if (b.held === 0 && flow.bufs[1 - dir].held === 0 && end - off < this.limits.maxDetectBytes) {
          // Nothing buffered either way: detect on the segment itself. When it decides (the first
          // segment of most flows), the session reads the segment as it would the buffer, and the
          // bytes are never copied into a direction buffer (a pool slice per flow otherwise).
          this.detect(flow, dir, buf.subarray(off, end), false);
          if ((flow.state as State) === State.Dissecting) this.feed(flow, dir, buf, off, end, tsNs);
          else if ((flow.state as State) === State.Detecting && this.reserve(flow, end - off)) b.append(buf, off, end, tsNs);
          return;
        }
        const room = this.limits.maxDetectBytes - b.held;
        const take = Math.min(end - off, Math.max(0, room));
        if (take > 0 && this.reserve(flow, take)) b.append(buf, off, off + take, tsNs);
        if (flow.state === State.Detecting) this.detect(flow, dir, b.held > 0 ? b.store!.subarray(b.start, b.end) : null, take < end - off);
        // Detected: the bytes past the detection cap go to the new session.
        if ((flow.state as State) === State.Dissecting && take < end - off) this.feed(flow, dir, buf, off + take, end, tsNs);
        return;
      }
      case State.Dissecting:
        this.feed(flow, dir, buf, off, end, tsNs);
        return;
      case State.Dropped:
        this.stats.bytesDropped += end - off;
        return;
      default:
        return;
    }
  }

  /** Counts n more held bytes against the caps; drops the flow and returns false when they don't fit. */
  private reserve(flow: Flow, n: number): boolean {
    if (flow.held() + n > this.flowLimits.maxFlowBytes || !this.budget.take(n)) {
      this.drop(flow, "byte cap");
      this.stats.bytesDropped += n;
      return false;
    }
    return true;
  }

  /** Detection over `data`: what the direction holds (its buffer, or a segment when it holds nothing), null when empty. */
  private detect(flow: Flow, dir: number, data: Buffer | null, overflow: boolean): void {
    if (data && data.length > 0) {
      const held = data.length;
      const cands = flow.candidates;
      if (flow.clientDir < 0) flow.guessClient();
      let allNo = true;
      for (let i = 0; i < cands.length; i++) {
        if (flow.excluded[dir] & (1 << i)) continue;
        const d = cands[i];
        let r;
        try {
          r = d.detect(data, flow.direction(dir));
        } catch (err) {
          this.bug(d.name, err);
          r = "no" as const;
        }
        if (r === "no") {
          flow.excluded[dir] |= 1 << i;
          continue;
        }
        allNo = false;
        if (r !== "more") {
          if (flow.hs.synFrom < 0 && !flow.hs.synAckSeen) flow.clientDir = r.senderRole === "client" ? dir : 1 - dir;
          this.assign(flow, d);
          return;
        }
      }
      const all = (1 << cands.length) - 1;
      const otherDone = flow.bufs[1 - dir].held === 0 ? flow.hs.payload[1 - dir] > 0 : flow.excluded[1 - dir] === all;
      if (!(allNo && otherDone) && !overflow && held < this.limits.maxDetectBytes) return;
      if (overflow || held >= this.limits.maxDetectBytes) this.count(flow.candidates[0]?.name, "detect_overflow");
    } else if (!overflow) return;
    this.stats.flowsUndetected++;
    this.passive(flow);
  }

  private passive(flow: Flow): void {
    flow.state = State.Passive;
    this.release(flow);
  }

  private assign(flow: Flow, d: Dissector): void {
    const ctx = new FlowContext(this, flow, this.stats.dissectors[d.name]);
    try {
      flow.session = d.createSession(ctx);
    } catch (err) {
      this.bug(d.name, err);
      this.passive(flow);
      return;
    }
    flow.dissector = d;
    flow.state = State.Dissecting;
    // The client's buffered bytes first, so requests are seen before their responses.
    const order = flow.clientDir === 1 ? [1, 0] : [0, 1];
    for (const dir of order) if (flow.state === State.Dissecting) this.runFeed(flow, dir, flow.bufs[dir]);
  }

  /** Feeds new in-order bytes: straight from the packet when nothing is buffered (no copy). */
  private feed(flow: Flow, dir: number, buf: Buffer, off: number, end: number, tsNs: number): void {
    const b = flow.bufs[dir];
    if (b.held === 0) {
      const data = end === buf.length ? buf : buf.subarray(0, end);
      const used = this.feedLoop(flow, dir, data, off, tsNs, tsNs, null);
      if (used < 0 || off + used === end) return;
      if (this.reserve(flow, end - off - used)) {
        b.append(buf, off + used, end, tsNs);
        b.needUntil = b.start + this.lastNeed;
      }
      return;
    }
    if (!this.reserve(flow, end - off)) return;
    b.append(buf, off, end, tsNs);
    if (b.end >= b.needUntil) this.runFeed(flow, dir, b);
  }

  /** Feeds what a direction holds buffered. */
  private runFeed(flow: Flow, dir: number, b: DirBuffer): void {
    if (b.held === 0) return;
    const used = this.feedLoop(flow, dir, b.store!.subarray(0, b.end), b.start, b.firstNs(b.start), b.lastNs, b);
    if (used < 0) return;
    b.start += used;
    this.budget.give(used);
    if (b.start === b.end) b.reset();
    else b.needUntil = b.start + this.lastNeed;
  }

  /** The `atLeast` of the last `need` answered by feedLoop (0 when it ended otherwise). */
  private lastNeed = 0;

  /**
   * Calls session.feed from `off` until it needs more bytes or the data is used up. Returns the
   * bytes consumed, or -1 when the flow stopped being dissected (its buffers are released then).
   */
  private feedLoop(flow: Flow, dir: number, data: Buffer, off: number, firstNs: number, lastNs: number, b: DirBuffer | null): number {
    const session = flow.session!;
    const name = flow.dissector!.name;
    const direction = flow.direction(dir);
    const start = off;
    const end = data.length;
    this.lastNeed = 0;
    while (off < end) {
      let r;
      try {
        r = session.feed(direction, data, off, firstNs, lastNs);
      } catch (err) {
        this.bug(name, err);
        flow.stopReason = `dissector error: ${err instanceof Error ? err.message : String(err)}`;
        this.passive(flow);
        return -1;
      }
      if (r.kind === "used") {
        if (!(r.used > 0 && r.used <= end - off)) {
          this.bug(name, new Error(`feed returned used=${r.used} with ${end - off} bytes available`));
          this.passive(flow);
          return -1;
        }
        off += r.used;
      } else if (r.kind === "need") {
        const atLeast = Math.max(1, r.atLeast | 0);
        if (atLeast > this.limits.maxBufferBytes || atLeast > this.flowLimits.maxFlowBytes) {
          this.count(name, "need_over_cap");
          // Fed straight from a segment (no buffer), the unread rest is nowhere drop() counts it.
          if (!b) this.stats.bytesDropped += end - off;
          this.drop(flow, `needs ${atLeast} bytes buffered, over the cap`);
          return -1;
        }
        this.lastNeed = atLeast;
        break;
      } else {
        this.stats.dissectors[name].errors++;
        this.count(name, "bad");
        if (r.skip <= 0) {
          flow.stopReason = `${name}: ${r.reason}`;
          this.passive(flow);
          return -1;
        }
        off = Math.min(end, off + r.skip);
      }
      if (b) firstNs = b.firstNs(off);
    }
    return off - start;
  }

  /** A hole was skipped in `dir`: the session cannot continue across it; close it and re-detect after. */
  gap(flow: Flow, dir: number, missing: number, tsNs: number): void {
    if (flow.state === State.Dissecting) {
      flow.warning = `capture gap: ${missing} bytes missing (${flow.direction(dir) === Direction.ClientToServer ? "client to server" : "server to client"})`;
      this.closeSession(flow, "evicted", tsNs);
      // Exchanges pending at the hole carry the warning; so does the first one after it.
      flow.nextWarning = flow.warning;
      flow.warning = "";
    }
    if (flow.state === State.Dissecting || flow.state === State.Detecting) {
      // Both directions restart at a message boundary found by detection; the queues stay
      // (they hold the bytes after the hole, being delivered now).
      flow.state = State.Detecting;
      flow.excluded = [0, 0];
      for (const b of flow.bufs) this.budget.give(b.reset());
    }
  }

  /** Over a cap: forget everything buffered and ignore the flow's bytes until it ends. */
  private drop(flow: Flow, why: string): void {
    if (flow.state === State.Dropped) return;
    this.stats.flowsDropped++;
    this.stats.bytesDropped += this.release(flow);
    flow.stopReason = `dropped: ${why}`;
    this.closeSession(flow, "evicted", this.nowNs);
    flow.state = State.Dropped;
  }

  /** Frees both directions' buffers and queues; returns the bytes freed. */
  private release(flow: Flow): number {
    let n = 0;
    for (const b of flow.bufs) {
      const held = b.reset();
      this.budget.give(held);
      n += held;
    }
    if (flow.streams) n += flow.streams[0].clear() + flow.streams[1].clear();
    return n;
  }

  private closeSession(flow: Flow, reason: CloseReason, tsNs: number): void {
    const s = flow.session;
    if (!s) return;
    flow.session = null;
    try {
      s.close(reason, tsNs);
    } catch (err) {
      this.bug(flow.dissector!.name, err);
    }
  }

  private close(flow: Flow, reason: CloseReason, tsNs: number): void {
    if (!this.all.has(flow)) return;
    if (flow.streams && (flow.state === State.Dissecting || flow.state === State.Detecting)) {
      // Bytes queued behind a hole are still worth dissecting before the session ends.
      flow.streams[0].skipHole(tsNs, 0, true);
      flow.streams[1].skipHole(tsNs, 0, true);
    }
    this.unlink(flow);
    this.closeSession(flow, reason, tsNs);
    this.release(flow);
    if (flow.tcp && flow.entries === 0) {
      let status = transportOutcome(flow.hs, reason);
      if (status === undefined && flow.stopReason) status = flow.hs.rstFrom >= 0 ? EntryStatus.CONNECTION_RESET : EntryStatus.TRUNCATED;
      if (status !== undefined) this.transportEntry(flow, status, tsNs);
    }
  }

  private transportEntry(flow: Flow, status: EntryStatus, tsNs: number): void {
    flow.guessClient();
    const [src, dst] = this.endpoints(flow);
    const c = flow.clientDir;
    const entry: EntryInit = {
      id: `${this.opts.workerId}-${++this.seq}`,
      timestampNs: flow.bufs[c].lastNs || tsNs,
      protocol: Protocol.TCP,
      src,
      dst,
      status,
      elapsedMs: 0,
      requestSize: flow.hs.payload[c],
      responseSize: flow.hs.payload[1 - c],
      node: this.opts.node ?? "",
      workerId: this.opts.workerId,
      transport: "tcp",
      warnings: flow.stopReason ? [flow.stopReason] : [],
    };
    if (flow.tls) entry.tls = true;
    this.deliver(flow, entry);
  }

  private endpoints(flow: Flow): [EndpointInit, EndpointInit] {
    if (!flow.endpoints) {
      const c = flow.clientDir;
      const ip = (x: number | string) => (typeof x === "number" ? ipv4ToString(x) : ipv6ToString(x));
      const client = { ip: ip(flow.ips[c]), port: flow.ports[c] };
      const server = { ip: ip(flow.ips[1 - c]), port: flow.ports[1 - c] };
      flow.endpoints = [client, server];
    }
    return flow.endpoints;
  }

  /** A session's exchange (through FlowContext). */
  emit(flow: Flow, ex: Exchange): void {
    const name = flow.dissector?.name;
    if (name) this.stats.dissectors[name].messages++;
    flow.guessClient();
    const [src, dst] = this.endpoints(flow);
    const hasResponse = ex.responseEndNs > 0;
    const entry: EntryInit = {
      id: `${this.opts.workerId}-${++this.seq}`,
      timestampNs: ex.requestStartNs || ex.responseEndNs,
      protocol: ex.protocol,
      src,
      dst,
      status: ex.status ?? (hasResponse ? EntryStatus.COMPLETE : EntryStatus.NO_RESPONSE),
      elapsedMs: ex.requestStartNs && hasResponse ? Math.max(0, ex.responseEndNs - ex.requestStartNs) / 1e6 : 0,
      requestSize: ex.requestSize,
      responseSize: ex.responseSize,
      responseTimestampNs: ex.responseEndNs,
      node: this.opts.node ?? "",
      workerId: this.opts.workerId,
      transport: flow.tcp ? "tcp" : "udp",
      warnings: ex.warnings ?? [],
    };
    const warning = flow.warning || flow.nextWarning;
    if (warning) {
      entry.warnings = [...entry.warnings!, warning];
      flow.nextWarning = "";
    }
    if (ex.httpRequest) entry.httpRequest = ex.httpRequest;
    if (ex.httpResponse) entry.httpResponse = ex.httpResponse;
    if (ex.redisRequest) entry.redisRequest = ex.redisRequest;
    if (ex.redisResponse) entry.redisResponse = ex.redisResponse;
    if (ex.kafkaRequest) entry.kafkaRequest = ex.kafkaRequest;
    if (ex.kafkaResponse) entry.kafkaResponse = ex.kafkaResponse;
    if (ex.dnsRequest) entry.dnsRequest = ex.dnsRequest;
    if (ex.dnsResponse) entry.dnsResponse = ex.dnsResponse;
    if (ex.grpc) entry.grpc = ex.grpc;
    if (flow.tls) entry.tls = true;
    this.deliver(flow, entry);
  }

  private deliver(flow: Flow, entry: EntryInit): void {
    flow.entries++;
    this.stats.entries++;
    this.opts.onEntry(entry);
  }

  // ---- UDP ----

  private udpPacket(p: PacketInfo, tsNs: number): void {
    if (!this.udpDissectors.length) return;
    const a = p.ipVersion === 4 ? p.src4 * 65536 + p.srcPort : `${p.src6}.${p.srcPort}`;
    const b = p.ipVersion === 4 ? p.dst4 * 65536 + p.dstPort : `${p.dst6}.${p.dstPort}`;
    let flow = this.udpFlows.get(flowKey(a, b));
    const dir = flow && flow.keyA !== a ? 1 : 0;
    if (!flow) flow = this.newFlow(p, false, tsNs);
    flow.lastNs = tsNs;
    if (flow.state === State.Passive) return;
    const data = p.l4.subarray(p.payloadOff, p.payloadEnd);
    if (flow.state === State.Detecting) {
      flow.guessClient();
      for (const d of flow.candidates) {
        let r;
        try {
          r = d.detect(data, flow.direction(dir));
        } catch (err) {
          this.bug(d.name, err);
          continue;
        }
        if (r === "no" || r === "more") continue;
        flow.clientDir = r.senderRole === "client" ? dir : 1 - dir;
        this.assign(flow, d);
        break;
      }
      if (flow.state === State.Detecting) {
        this.stats.flowsUndetected++;
        flow.state = State.Passive;
        return;
      }
    }
    const s = flow.session;
    if (!s?.datagram) return;
    try {
      s.datagram(flow.direction(dir), data, tsNs);
    } catch (err) {
      this.bug(flow.dissector!.name, err);
      flow.state = State.Passive;
    }
  }

  // ---- housekeeping ----

  /** At most once a second of capture time: idle flows, pairing timeouts and old holes. */
  private scan(nowNs: number): void {
    this.nextScanNs = nowNs + 1e9;
    const { idleTimeoutNs, pairingTimeoutNs, gapTimeoutNs } = this.flowLimits;
    for (const flow of this.all) {
      if (nowNs - flow.lastNs > idleTimeoutNs) {
        this.close(flow, "idle", nowNs);
        continue;
      }
      if (flow.streams && flow.state !== State.Dropped) {
        flow.streams[0].skipHole(nowNs, gapTimeoutNs);
        flow.streams[1].skipHole(nowNs, gapTimeoutNs);
      }
      const s = flow.session;
      if (s?.expire) {
        try {
          s.expire(nowNs, pairingTimeoutNs);
        } catch (err) {
          this.bug(flow.dissector!.name, err);
        }
      }
    }
  }

  private count(name: string | undefined, counter: string): void {
    if (!name) return;
    const c = this.stats.dissectors[name].counters;
    c[counter] = (c[counter] ?? 0) + 1;
  }

  private bug(name: string, err: unknown): void {
    const d = this.stats.dissectors[name];
    if (d) d.bugs++;
    this.stats.lastBug = `${name}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
  }
}

/** One direction's reassembled bytes and gaps, to the pipeline (an object, not two closures per direction). */
class FlowSink implements HalfStreamSink {
  constructor(
    private readonly p: Pipeline,
    private readonly flow: Flow,
    private readonly dir: number,
  ) {}
  bytes(buf: Buffer, off: number, end: number, tsNs: number): void {
    this.p.bytes(this.flow, this.dir, buf, off, end, tsNs);
  }
  gap(missing: number, tsNs: number): void {
    this.p.gap(this.flow, this.dir, missing, tsNs);
  }
}

/** What a session sees of the pipeline: limits, emit and counters (one object per flow, no closures). */
class FlowContext implements SessionContext {
  readonly limits: DissectLimits;
  constructor(
    private readonly p: Pipeline,
    private readonly flow: Flow,
    private readonly stats: DissectorStats,
  ) {
    this.limits = p.limits;
  }
  emit(ex: Exchange): void {
    this.p.emit(this.flow, ex);
  }
  count(counter: string, n = 1): void {
    const c = this.stats.counters;
    c[counter] = (c[counter] ?? 0) + n;
  }
}

function flowKey(a: number | string, b: number | string, tls = false, meshNs = 0): string {
  const k = a <= b ? `${a}|${b}` : `${b}|${a}`;
  const m = meshNs ? `mesh${meshNs}|${k}` : k;
  return tls ? `tls|${m}` : m;
}
