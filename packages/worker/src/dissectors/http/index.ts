// HTTP/1.0 and HTTP/1.1 dissector (RFC 9112). Wire grammar in wire.ts, framing and pairing in session.ts.
import { Protocol } from "@tapline/protocol/enums";
import type { Detection, Dissector } from "../types.js";
import { HttpSession } from "./session.js";
import { looksLikeRequest, looksLikeResponse } from "./wire.js";

export const httpDissector: Dissector = {
  name: "http",
  protocol: Protocol.HTTP,
  transport: "tcp",
  defaultPorts: [80, 8080, 8000, 8008, 8888, 3000, 5000, 8081, 9000],
  detect(data: Buffer): Detection {
    const req = looksLikeRequest(data);
    if (req === "yes") return { match: true, senderRole: "client" };
    const res = looksLikeResponse(data);
    if (res === "yes") return { match: true, senderRole: "server" };
    return req === "more" || res === "more" ? "more" : "no";
  },
  createSession: (ctx) => new HttpSession(ctx),
};

export { HttpSession, MAX_HEADER_BYTES } from "./session.js";
export { decode as decodeBody } from "./body.js";
export { parseRequestHead, parseResponseHead, parseChunkSize, MAX_CHUNK_SIZE } from "./wire.js";
