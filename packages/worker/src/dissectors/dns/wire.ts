// DNS message format (RFC 1035 §4.1):
//
//   Header   ID(16) | QR(1) Opcode(4) AA(1) TC(1) RD(1) RA(1) Z(3) RCODE(4) | QDCOUNT ANCOUNT NSCOUNT ARCOUNT (16 each)
//   Question QNAME QTYPE(16) QCLASS(16)
//   RR       NAME TYPE(16) CLASS(16) TTL(32) RDLENGTH(16) RDATA
//   NAME     sequence of labels (length octet 1..63 + octets) ended by a zero octet, or ended by a
//            pointer (two octets 11xxxxxx xxxxxxxx: offset from the message start, §4.1.4)
//   over TCP each message is preceded by a two-octet length (RFC 1035 §4.2.2, RFC 7766)
import type { DnsRequestInit, DnsResponseInit } from "@tapline/protocol";

export const HEADER = 12;
const MAX_NAME = 255; // §2.3.4, octets of a name on the wire
const MAX_JUMPS = 32;

// IANA DNS parameters: resource record types rendered by name
const TYPES: Record<number, string> = {
  1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
  35: "NAPTR", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 64: "SVCB", 65: "HTTPS", 99: "SPF",
  252: "AXFR", 255: "ANY", 257: "CAA",
};
// RFC 1035 §4.1.1 and RFC 2136 §2.2 (6..10)
const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

export const typeName = (t: number): string => TYPES[t] ?? `TYPE${t}`;
export const rcodeName = (r: number): string => RCODES[r] ?? `RCODE${r}`;

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  rcode: number;
  truncated: boolean;
  recursionDesired: boolean;
  questions: { name: string; type: string }[];
  answers: { name: string; type: string; ttl: number; data: string }[];
}

/** Reads a possibly compressed name at `p`; returns [name, offset after it in place] or null when malformed. */
export function readName(buf: Buffer, start: number, end: number): [string, number] | null {
  let p = start;
  let after = -1;
  let jumps = 0;
  let octets = 0;
  let name = "";
  // Pointers must point strictly backwards from the label that holds them, so a chain cannot loop;
  // the jump count bounds it anyway.
  let limit = start;
  for (;;) {
    if (p >= end) return null;
    const len = buf[p]!;
    if (len === 0) {
      if (after < 0) after = p + 1;
      return [name === "" ? "." : name, after];
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= end) return null;
      const target = ((len & 0x3f) << 8) | buf[p + 1]!;
      if (target >= limit || ++jumps > MAX_JUMPS) return null;
      if (after < 0) after = p + 2;
      limit = target;
      p = target;
      continue;
    }
    if (len & 0xc0) return null; // 01/10 label types (RFC 6891 §5 retired them)
    if (p + 1 + len > end) return null;
    octets += len + 1;
    if (octets > MAX_NAME) return null;
    const label = buf.toString("latin1", p + 1, p + 1 + len);
    name += name === "" ? label : `.${label}`;
    p += 1 + len;
  }
}

/**
 * Parses a whole DNS message. Answers beyond `maxItems` are counted out; records are rendered as
 * text (A/AAAA addresses, names for CNAME/NS/PTR, "pref host" for MX, quoted strings for TXT,
 * "priority weight port target" for SRV, the seven SOA fields). Returns a reason on malformed input.
 */
export function parseMessage(buf: Buffer, start: number, end: number, maxItems: number): DnsMessage | string {
  if (end - start < HEADER) return "shorter than a DNS header";
  const m = buf.subarray(start, end); // names' pointers count from the message start
  const flags = m.readUInt16BE(2);
  const qd = m.readUInt16BE(4);
  const an = m.readUInt16BE(6);
  const msg: DnsMessage = {
    id: m.readUInt16BE(0),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    questions: [],
    answers: [],
  };
  let p = HEADER;
  for (let i = 0; i < qd; i++) {
    const n = readName(m, p, m.length);
    if (!n || n[1] + 4 > m.length) return "question runs past the message";
    p = n[1];
    if (msg.questions.length < maxItems) msg.questions.push({ name: n[0], type: typeName(m.readUInt16BE(p)) });
    p += 4;
  }
  for (let i = 0; i < an; i++) {
    const n = readName(m, p, m.length);
    if (!n || n[1] + 10 > m.length) return "answer runs past the message";
    p = n[1];
    const type = m.readUInt16BE(p);
    const ttl = m.readUInt32BE(p + 4);
    const rdlen = m.readUInt16BE(p + 8);
    p += 10;
    if (p + rdlen > m.length) return "record data runs past the message";
    if (msg.answers.length < maxItems) msg.answers.push({ name: n[0], type: typeName(type), ttl, data: rdata(m, type, p, p + rdlen) });
    p += rdlen;
  }
  // authority and additional sections are not in the entry schema; their counts are not checked
  return msg;
}

function rdata(m: Buffer, type: number, p: number, end: number): string {
  const len = end - p;
  const name = (at: number) => readName(m, at, end)?.[0] ?? "<malformed name>";
  switch (type) {
    case 1:
      return len === 4 ? `${m[p]}.${m[p + 1]}.${m[p + 2]}.${m[p + 3]}` : hex(m, p, end);
    case 28:
      return len === 16 ? ipv6(m, p) : hex(m, p, end);
    case 2:
    case 5:
    case 12:
      return name(p);
    case 15:
      return len >= 3 ? `${m.readUInt16BE(p)} ${name(p + 2)}` : hex(m, p, end);
    case 33:
      return len >= 7 ? `${m.readUInt16BE(p)} ${m.readUInt16BE(p + 2)} ${m.readUInt16BE(p + 4)} ${name(p + 6)}` : hex(m, p, end);
    case 16: {
      const parts: string[] = [];
      for (let q = p; q < end; ) {
        const n = m[q]!;
        if (q + 1 + n > end) return hex(m, p, end);
        parts.push(JSON.stringify(m.toString("utf8", q + 1, q + 1 + n)));
        q += 1 + n;
      }
      return parts.join(" ");
    }
    case 6: {
      const mname = readName(m, p, end);
      const rname = mname && readName(m, mname[1], end);
      if (!rname || rname[1] + 20 > end) return hex(m, p, end);
      const q = rname[1];
      const nums = [0, 4, 8, 12, 16].map((o) => m.readUInt32BE(q + o));
      return `${mname[0]} ${rname[0]} ${nums.join(" ")}`;
    }
    default:
      return hex(m, p, end);
  }
}

function hex(m: Buffer, p: number, end: number): string {
  return m.toString("hex", p, Math.min(end, p + 256));
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run of 2+ zero groups as "::". */
function ipv6(m: Buffer, p: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(m.readUInt16BE(p + 2 * i));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const s = g.map((x) => x.toString(16));
  if (best < 0) return s.join(":");
  return `${s.slice(0, best).join(":")}::${s.slice(best + bestLen).join(":")}`;
}

export function toRequest(msg: DnsMessage): DnsRequestInit {
  return { id: msg.id, questions: msg.questions, recursionDesired: msg.recursionDesired };
}

export function toResponse(msg: DnsMessage): DnsResponseInit {
  return { id: msg.id, rcode: rcodeName(msg.rcode), answers: msg.answers, truncated: msg.truncated };
}

/** Plausible first message of a flow (detection): opcode QUERY..UPDATE, a few questions, counts that fit. */
export function looksLikeDns(buf: Buffer, start: number, end: number): boolean {
  if (end - start < HEADER + 5) return false;
  const flags = buf.readUInt16BE(start + 2);
  const opcode = (flags >> 11) & 0xf;
  const qd = buf.readUInt16BE(start + 4);
  if (opcode > 5 || opcode === 3 || qd === 0 || qd > 8 || (flags & 0x0040) !== 0) return false; // Z bit must be 0
  const counts = qd + buf.readUInt16BE(start + 6) + buf.readUInt16BE(start + 8) + buf.readUInt16BE(start + 10);
  if (counts * 5 > end - start) return false;
  const n = readName(buf.subarray(start, end), HEADER, end - start);
  return n !== null && n[1] + 4 <= end - start;
}
