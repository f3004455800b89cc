// Redis dissector: RESP2 and RESP3 (wire.ts), command naming and keys (commands.ts), pairing (session.ts).
import { Protocol } from "@tapline/protocol/enums";
import type { Detection, Dissector } from "../types.js";
import { Direction } from "../types.js";
import { RedisSession } from "./session.js";

/** `*N\r\n$`: an array of bulk strings, the form every client sends commands in. */
function looksLikeCommand(data: Buffer): "yes" | "no" | "more" {
  if (data[0] !== 0x2a) return "no";
  let i = 1;
  while (i < data.length && i < 12 && data[i] >= 0x30 && data[i] <= 0x39) i++;
  if (i === data.length) return i < 12 ? "more" : "no";
  if (i === 1 || data[i] !== 0x0d) return "no";
  const rest = [0x0d, 0x0a, 0x24];
  for (let k = 0; k < 3; k++) {
    if (i + k >= data.length) return "more";
    if (data[i + k] !== rest[k]) return "no";
  }
  return "yes";
}

/** Typical first replies: +OK/+PONG-like words, -ERR-like errors, integers, bulk/aggregate headers, RESP3 maps. */
function looksLikeReply(data: Buffer): "yes" | "no" | "more" {
  const t = data[0];
  const nl = data.indexOf(0x0a);
  if (nl < 0) return data.length < 256 ? "more" : "no";
  if (nl < 2 || data[nl - 1] !== 0x0d) return "no";
  const line = data.toString("latin1", 1, nl - 1);
  switch (t) {
    case 0x2b: // +WORD (POP3's "+OK text" has a space and is not taken)
      return /^[A-Z]{1,16}$/.test(line) ? "yes" : "no";
    case 0x2d: // -ERR message, -WRONGTYPE message
      return /^[A-Z]{2,24}( |$)/.test(line) ? "yes" : "no";
    case 0x3a:
    case 0x24:
    case 0x2a:
    case 0x25:
    case 0x7e:
    case 0x3e:
      return /^-?\d{1,10}$/.test(line) ? "yes" : "no";
    default:
      return "no";
  }
}

export const redisDissector: Dissector = {
  name: "redis",
  protocol: Protocol.REDIS,
  transport: "tcp",
  defaultPorts: [6379, 6380, 7000, 26379],
  detect(data: Buffer, direction: Direction): Detection {
    const cmd = looksLikeCommand(data);
    // replies of array type look the same: the direction says who sent them
    if (cmd === "yes") return { match: true, senderRole: direction === Direction.ServerToClient ? "server" : "client" };
    if (direction === Direction.ServerToClient) {
      const rep = looksLikeReply(data);
      if (rep === "yes") return { match: true, senderRole: "server" };
      if (rep === "more") return "more";
    }
    return cmd;
  },
  createSession: (ctx) => new RedisSession(ctx),
};

export { RedisSession, ARG_CAP } from "./session.js";
export { RespReader, MAX_BULK, MAX_DEPTH } from "./wire.js";
export { toRequest } from "./commands.js";
