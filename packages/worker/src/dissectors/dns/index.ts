// DNS (RFC 1035) over UDP and over TCP: one session type, two transports. Wire format in
// wire.ts, pairing in session.ts. Both are registered under the name "dns".
import { Protocol } from "@tapline/protocol/enums";
import type { Detection, Dissector } from "../types.js";
import { DnsSession } from "./session.js";
import { looksLikeDns } from "./wire.js";

function detect(data: Buffer, start: number): Detection {
  if (!looksLikeDns(data, start, data.length)) return "no";
  return { match: true, senderRole: data[start + 2]! & 0x80 ? "server" : "client" };
}

export const dnsDissector: Dissector = {
  name: "dns",
  protocol: Protocol.DNS,
  transport: "udp",
  defaultPorts: [53],
  detect: (data) => detect(data, 0),
  createSession: (ctx) => new DnsSession(ctx, false),
};

/** DNS over TCP: the first message after its two-octet length must be whole to be recognised. */
export const dnsTcpDissector: Dissector = {
  name: "dns",
  protocol: Protocol.DNS,
  transport: "tcp",
  defaultPorts: [53],
  detect(data) {
    if (data.length < 2) return "more";
    const len = data.readUInt16BE(0);
    if (len < 17) return "no";
    if (data.length < 2 + len) return len > 4096 ? "no" : "more";
    return detect(data.subarray(0, 2 + len), 2);
  },
  createSession: (ctx) => new DnsSession(ctx, true),
};

export { DnsSession } from "./session.js";
export { parseMessage, readName, rcodeName, typeName } from "./wire.js";
