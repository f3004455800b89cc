// A conservative test over an encoded Entry's bytes: false only when redaction provably leaves
// the entry unchanged, so ingest can store the worker's bytes without decoding them for the
// redactor. Every name the redactor tests (header and trailer names, query and form field names,
// multipart names, JSON keys (bodies, Kafka records, gRPC JSON messages), Kafka record header
// names, Redis CONFIG SET/GET parameters, hash and stream fields in requests and replies, RESP3
// map keys) is a run of
// the entry's bytes, as protobuf strings and bytes fields are stored verbatim. A name matches when
// lower(name) with "-", "_", ".", " " removed contains a word (names.ts), so the bytes are folded
// the same way ("+", a space in forms, is removed too) and searched for every word; any match
// across field boundaries only makes the test more cautious. The cases that defeat a byte search
// always answer true: escapes that hide a name ("\u0070ass" in JSON, "%70ass" in forms), the two
// non-ASCII characters whose lower case is ASCII (U+212A KELVIN SIGN -> "k", U+0130 -> "i"),
// value patterns (a regex may match any value), Kafka requests (SASL bytes carry no name), and
// Redis ACL SETUSER (its secrets sit behind ">" and "#", not behind a name).
import { NameMatcher } from "./names.js";

/** Redis commands whose credential arguments follow a keyword rather than a sensitive name. */
const COMMAND_WORDS = ["auth", "setuser"];
/** Entry.kafka_request: the field number. */
const KAFKA_REQUEST = 12;

export class RedactPrecheck {
  private readonly pattern: RegExp | undefined;
  private scratch = Buffer.allocUnsafe(4096);

  /** `always`: value patterns are configured, so every entry goes through the redactor. */
  constructor(names: NameMatcher, always: boolean) {
    // A non-ASCII user key is lower-cased by the redactor in ways a byte fold does not follow.
    if (always || names.wordList.some((w) => /[^\x20-\x7e]/.test(w))) return;
    // "+" is dropped from the bytes, so from the words too (a user key may hold one).
    const words = [...names.wordList, ...COMMAND_WORDS].map((w) => w.replace(/\+/g, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.pattern = new RegExp(`${words.join("|")}|\\\\u|%[0-9a-f]{2}|\\xe2\\x84\\xaa|\\xc4\\xb0`);
  }

  /** True when the redactor might change the entry (it must then decode and redact it). */
  mayRedact(bytes: Uint8Array): boolean {
    if (!this.pattern) return true;
    const n = bytes.length;
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    const out = this.scratch;
    if (hasTopLevelField(bytes, KAFKA_REQUEST)) return true;
    let k = 0;
    for (let i = 0; i < n; i++) {
      let b = bytes[i];
      if (b === 0x2d || b === 0x5f || b === 0x2e || b === 0x20 || b === 0x2b) continue; // - _ . space +
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      out[k++] = b;
    }
    return this.pattern.test(out.toString("latin1", 0, k));
  }
}

/**
 * Whether a message's top level holds field `field` (protobuf wire format: varint tags, then a
 * varint, 8 bytes, a length-prefixed run, or 4 bytes). Malformed input answers true (cautious).
 */
function hasTopLevelField(buf: Uint8Array, field: number): boolean {
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10 && pos < buf.length; i++) {
      const b = buf[pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    return -1;
  };
  while (pos < buf.length) {
    const tag = varint();
    if (tag < 0) return true;
    if (Math.floor(tag / 8) === field) return true;
    switch (tag & 7) {
      case 0: if (varint() < 0) return true; break;
      case 1: pos += 8; break;
      case 2: { const len = varint(); if (len < 0) return true; pos += len; break; }
      case 5: pos += 4; break;
      default: return true;
    }
  }
  return pos !== buf.length;
}
