// HTTP/2 (RFC 9113) with HPACK (RFC 7541) and gRPC. Framing grammar in frames.ts, header
// compression in hpack.ts, streams and pairing in session.ts, gRPC messages in grpc.ts.
import { Protocol } from "@tapline/protocol/enums";
import { Direction, type Detection, type Dissector } from "../types.js";
import { looksLikeMidStream, looksLikeServerPreface, PREFACE, prefaceMatch } from "./frames.js";
import { Http2Session } from "./session.js";

/**
 * A client is recognised by the connection preface (§3.4), a server by its preface, a SETTINGS
 * frame (the capture began after the client's preface, or only the server side is seen), and a
 * connection already under way by a run of plausible frames with a header block that tells
 * requests from responses.
 */
export function detectHttp2(data: Buffer, _direction: Direction): Detection {
  const m = prefaceMatch(data);
  if (m === PREFACE.length) return { match: true, senderRole: "client" };
  if (m >= 0) return "more";
  const s = looksLikeServerPreface(data);
  if (s === "yes") return { match: true, senderRole: "server" };
  const mid = looksLikeMidStream(data);
  if (mid === "client" || mid === "server") return { match: true, senderRole: mid };
  return s === "more" || mid === "more" ? "more" : "no";
}

export const http2Dissector: Dissector = {
  name: "http2",
  protocol: Protocol.HTTP2,
  transport: "tcp",
  defaultPorts: [50051, 8443],
  detect: detectHttp2,
  createSession: (ctx) => new Http2Session(ctx),
};

export { Http2Session, HPACK_UNKNOWN } from "./session.js";
export { HpackDecoder, huffmanDecode, type HeaderField } from "./hpack.js";
export { renderProtobuf, percentDecode, GrpcMessageReader } from "./grpc.js";
