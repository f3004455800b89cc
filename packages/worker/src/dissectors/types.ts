// The contract between the flow driver (src/flows) and each protocol dissector
// (src/dissectors/<proto>/). Modelled on gopacket's small, written-down contracts.
//
// Ownership: every `data: Buffer` handed to a dissector is a view into the driver's
// reassembly buffer, valid only during the call. Copy (Buffer.from / toString) what you
// keep. Never retain `data` or a subarray of it.
//
// Robustness: nothing here may throw on network input. Truncated, bogus or hostile bytes
// produce a `bad` feed result (or a message with a warning), never an exception. The
// driver still wraps every call in one try/catch and counts an escape as a dissector bug.
import type { EntryInit, Protocol } from "@tapline/protocol";

/** Which way bytes travel in a flow. The client is the side that opened the connection (or sent the first request). */
export const Direction = { ClientToServer: 0, ServerToClient: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export type DissectorName = "http" | "http2" | "redis" | "kafka" | "dns";

/**
 * Result of `detect`:
 * - `{ match: true, senderRole }`: these bytes are this protocol; `senderRole` says whether the
 *   sender of the bytes is the client or the server (lets the driver fix a mid-stream flow's orientation).
 * - `"no"`: not this protocol.
 * - `"more"`: cannot tell yet; call again with more bytes (the driver caps how much it buffers
 *   before giving up, see DissectLimits.maxDetectBytes).
 */
export type Detection = { match: true; senderRole: "client" | "server" } | "no" | "more";

/**
 * One feed step over a direction's reassembled bytes, from `offset` to `data.length`:
 * - `need`: nothing consumed; call again once at least `atLeast` bytes (counted from `offset`) are buffered.
 *   The driver drops the flow (counted) if `atLeast` exceeds its per-flow cap: ask only for what you must
 *   hold at once (headers, a length prefix, a frame), and stream bodies with `used`.
 * - `used`: `used` > 0 bytes consumed (a message finished, or part of a body streamed into session state).
 * - `bad`: the bytes at `offset` are not valid for this protocol; `skip` bytes should be dropped and
 *   parsing resumed after them, or `skip: 0` to stop dissecting this direction (the driver counts it
 *   and keeps a transport-only record of the flow).
 */
export type Feed =
  | { kind: "need"; atLeast: number }
  | { kind: "used"; used: number }
  | { kind: "bad"; reason: string; skip: number };

/** Why a flow ended, passed to DissectorSession.close. */
export type CloseReason = "fin" | "rst" | "idle" | "capture-end" | "evicted";

/** Caps applied by every dissector; every length read from the wire is checked against them before allocating. */
export interface DissectLimits {
  /** Bytes of a body/value kept in an entry (decoded); the true size is still reported. */
  maxBodyBytes: number;
  /**
   * false: HTTP/1 and HTTP/2 message bodies are measured (size, content type and encoding) but
   * neither copied nor kept (no `data`), for output that shows no bodies (`tapline dissect
   * --format table`): copying them was ~15% of a table dissect of HTTP traffic. Default: kept.
   */
  keepBodies?: boolean;
  /** Bytes of a decoded (gzip/deflate/br) body produced at most, to stop decompression bombs. */
  maxDecodedBytes: number;
  /** Bytes buffered in one direction while waiting for a complete header/frame. */
  maxBufferBytes: number;
  /** Bytes buffered before a protocol is identified. */
  maxDetectBytes: number;
  /** Items (headers, Redis array elements, Kafka records/partitions) kept per message. */
  maxItems: number;
  /** Requests waiting for a response in one flow (pipelining); older ones are emitted as NO_RESPONSE. */
  maxPending: number;
}

export const defaultLimits: DissectLimits = {
  maxBodyBytes: 64 * 1024,
  maxDecodedBytes: 1024 * 1024,
  maxBufferBytes: 1024 * 1024,
  maxDetectBytes: 16 * 1024,
  maxItems: 256,
  maxPending: 1024,
};

/**
 * What a dissector reports for one request/response exchange. The driver turns it into an
 * `Entry` by adding id, endpoints, tls flag, node and the sizes it counted.
 * Set exactly one of the request fields and at most one of the response fields of
 * EntryInit (httpRequest/httpResponse, redisRequest/redisResponse, ...), plus grpc/warnings.
 */
export interface Exchange
  extends Pick<
    EntryInit,
    | "httpRequest"
    | "httpResponse"
    | "redisRequest"
    | "redisResponse"
    | "kafkaRequest"
    | "kafkaResponse"
    | "dnsRequest"
    | "dnsResponse"
    | "grpc"
    | "warnings"
    | "status"
  > {
  protocol: Protocol;
  /** Capture time of the first request byte (ns since the epoch), 0 if no request was seen. */
  requestStartNs: number;
  /** Capture time of the last response byte, 0 if no response. */
  responseEndNs: number;
  /** Bytes of the request and of the response on the wire (after reassembly). */
  requestSize: number;
  responseSize: number;
}

/** Handed to a session when a flow is assigned to a dissector. */
export interface SessionContext {
  /** Deliver a finished exchange (request+response, a lone request when closing, or a lone response). */
  emit(exchange: Exchange): void;
  readonly limits: DissectLimits;
  /** Increments a per-dissector counter (shown in WorkerStats), e.g. "bad_frame", "body_truncated". */
  count(counter: string, n?: number): void;
}

/** Per-flow state for one protocol: both directions' parsers and the request/response pairing. */
export interface DissectorSession {
  /**
   * Parse one direction's bytes from `data[offset]`. `firstNs` is the capture time of the byte at
   * `offset`, `lastNs` of the newest byte in `data`.
   */
  feed(direction: Direction, data: Buffer, offset: number, firstNs: number, lastNs: number): Feed;
  /** One datagram (UDP dissectors only). */
  datagram?(direction: Direction, data: Buffer, tsNs: number): void;
  /**
   * The flow ended: emit what is pending (requests without a response get
   * status NO_RESPONSE / CONNECTION_RESET / CLOSED_EARLY according to `reason`; an HTTP/1.0
   * body delimited by close is complete now).
   */
  close(reason: CloseReason, tsNs: number): void;
  /** Called by the driver at most once a second; emit requests older than `timeoutNs` as NO_RESPONSE. */
  expire?(nowNs: number, timeoutNs: number): void;
}

/** A protocol dissector: the value each `src/dissectors/<proto>/index.ts` exports. */
export interface Dissector {
  readonly name: DissectorName;
  readonly protocol: Protocol;
  readonly transport: "tcp" | "udp";
  /** Ports tried first; detection by content still decides (HTTP on 9000, Redis on 7000 are found). */
  readonly defaultPorts: readonly number[];
  /** Looks at the first bytes of one direction of a new flow. Pure; never throws. */
  detect(data: Buffer, direction: Direction): Detection;
  createSession(ctx: SessionContext): DissectorSession;
}
