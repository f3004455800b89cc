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
  private readonly matcher: LiteralMatcher | undefined;

  /** `always`: value patterns are configured, so every entry goes through the redactor. */
  constructor(names: NameMatcher, always: boolean) {
    // A non-ASCII user key is lower-cased by the redactor in ways a byte fold does not follow.
    if (always || names.wordList.some((w) => /[^\x20-\x7e]/.test(w))) return;
    // "+" is dropped from the bytes, so from the words too (a user key may hold one).
    // Besides the words: a JSON \u escape, and the UTF-8 of U+212A and U+0130 (%-escapes are
    // found by the matcher itself).
    const literals = [...names.wordList, ...COMMAND_WORDS].map((w) => w.replace(/\+/g, ""));
    // A word of "+" only is in every folded text: always redact.
    if (literals.includes("")) return;
    this.matcher = new LiteralMatcher([...literals, "\\u", "\xe2\x84\xaa", "\xc4\xb0"]);
  }

  /** True when the redactor might change the entry (it must then decode and redact it). */
  mayRedact(bytes: Uint8Array): boolean {
    if (!this.matcher) return true;
    if (hasTopLevelField(bytes, KAFKA_REQUEST)) return true;
    return this.matcher.test(bytes);
  }

  /**
   * False only when the name-based redaction of a body (JSON, form or multipart: redactJson,
   * redactUrlEncoded, redactMultipart) provably leaves these bytes unchanged: every name they test
   * is a run of them, by the argument above. Always true when value patterns are configured.
   */
  mayHoldName(bytes: Uint8Array): boolean {
    return !this.matcher || this.matcher.test(bytes);
  }
}

/**
 * Whether the folded bytes (ASCII upper case lowered; "-", "_", ".", " ", "+" dropped) contain
 * one of the literals or a %-escape ("%" and two hex digits), in one pass: an Aho-Corasick
 * automaton over the bytes that occur in the literals (every other byte is one symbol), instead
 * of folding into a copy, making a string of it and running a regex alternation (twice the time
 * per entry, bench entries without secrets).
 */
class LiteralMatcher {
  /** Byte -> symbol (0: a byte no literal holds). */
  private readonly symbolOf = new Uint8Array(256);
  private readonly symbols: number;
  /** state * symbols + symbol -> next state. */
  private readonly next: Uint16Array;
  /** Whether a literal ends in the state (or in one of its suffix states). */
  private readonly accepts: Uint8Array;

  constructor(literals: string[]) {
    let symbols = 1;
    for (const l of literals) for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      if (this.symbolOf[c] === 0) this.symbolOf[c] = symbols++;
    }
    this.symbols = symbols;
    // The trie.
    const children: Map<number, number>[] = [new Map()];
    const accept: boolean[] = [false];
    for (const l of literals) {
      let s = 0;
      for (let i = 0; i < l.length; i++) {
        const sym = this.symbolOf[l.charCodeAt(i)];
        let t = children[s].get(sym);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          accept.push(false);
          children[s].set(sym, t);
        }
        s = t;
      }
      accept[s] = true;
    }
    if (children.length > 0xffff) throw new Error("redact precheck: too many sensitive words");
    // Breadth first: failure links, and the full transition table from them.
    const next = new Uint16Array(children.length * symbols);
    const fail = new Int32Array(children.length);
    const queue: number[] = [];
    for (let sym = 0; sym < symbols; sym++) {
      const t = children[0].get(sym);
      if (t !== undefined) { next[sym] = t; fail[t] = 0; queue.push(t); }
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q];
      if (accept[fail[s]]) accept[s] = true;
      for (let sym = 0; sym < symbols; sym++) {
        const t = children[s].get(sym);
        if (t === undefined) next[s * symbols + sym] = next[fail[s] * symbols + sym];
        else {
          fail[t] = next[fail[s] * symbols + sym];
          next[s * symbols + sym] = t;
          queue.push(t);
        }
      }
    }
    this.next = next;
    this.accepts = Uint8Array.from(accept, (a) => (a ? 1 : 0));
  }

  test(bytes: Uint8Array): boolean {
    const { symbolOf, next, accepts, symbols } = this;
    let state = 0;
    let hex = -1; // folded bytes since a "%": 0 or 1 hex digits so far, -1 when none pending
    for (let i = 0; i < bytes.length; i++) {
      let b = bytes[i];
      if (b === 0x2d || b === 0x5f || b === 0x2e || b === 0x20 || b === 0x2b) continue; // - _ . space +
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (hex >= 0 && ((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66))) {
        if (++hex === 2) return true;
      } else hex = b === 0x25 ? 0 : -1; // %
      state = next[state * symbols + symbolOf[b]];
      if (accepts[state] === 1) return true;
    }
    return false;
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
