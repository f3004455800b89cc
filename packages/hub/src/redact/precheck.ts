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
 * automaton whose table has a column per byte value, the folding built in (an upper case byte
 * moves as its lower case, a dropped one stays in its state) and the %-escapes as 256 more
 * literals, so a byte costs one table read and no branch but the match test (mayRedact on bench
 * entries 0.53-0.58 -> 0.45 µs; the table is ~210 KB for the default words: 414 states x 256).
 * The automaton it replaced read a byte's symbol from a second table and tracked %-escapes apart;
 * before that, folding into a copy, making a string of it and running a regex alternation took
 * twice as long again.
 */
class LiteralMatcher {
  /** state * 256 + byte -> next state. */
  private readonly next: Uint16Array;
  /** Whether a literal ends in the state (or in one of its suffix states). */
  private readonly accepts: Uint8Array;

  constructor(words: string[]) {
    const hex = "0123456789abcdef";
    const literals = [...words];
    for (const a of hex) for (const b of hex) literals.push(`%${a}${b}`);
    // The trie, over folded bytes (the literals are folded already).
    const children: Map<number, number>[] = [new Map()];
    const accept: boolean[] = [false];
    for (const l of literals) {
      let s = 0;
      for (let i = 0; i < l.length; i++) {
        const c = l.charCodeAt(i);
        let t = children[s].get(c);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          accept.push(false);
          children[s].set(c, t);
        }
        s = t;
      }
      accept[s] = true;
    }
    if (children.length > 0xffff) throw new Error("redact precheck: too many sensitive words");
    // Breadth first: failure links, and the full transition table from them, for folded bytes.
    const next = new Uint16Array(children.length * 256);
    const fail = new Int32Array(children.length);
    const queue: number[] = [];
    for (let c = 0; c < 256; c++) {
      const t = children[0].get(c);
      if (t !== undefined) { next[c] = t; queue.push(t); }
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q];
      if (accept[fail[s]]) accept[s] = true;
      for (let c = 0; c < 256; c++) {
        const t = children[s].get(c);
        if (t === undefined) next[s * 256 + c] = next[fail[s] * 256 + c];
        else {
          fail[t] = next[fail[s] * 256 + c];
          next[s * 256 + c] = t;
          queue.push(t);
        }
      }
    }
    // Folding: upper case moves as lower case; dropped bytes leave the state as it is.
    for (let s = 0; s < children.length; s++) {
      for (let c = 0x41; c <= 0x5a; c++) next[s * 256 + c] = next[s * 256 + (c | 0x20)];
      for (const c of [0x2d, 0x5f, 0x2e, 0x20, 0x2b]) next[s * 256 + c] = s; // - _ . space +
    }
    this.next = next;
    this.accepts = Uint8Array.from(accept, (a) => (a ? 1 : 0));
  }

  test(bytes: Uint8Array): boolean {
    const { next, accepts } = this;
    let state = 0;
    for (let i = 0; i < bytes.length; i++) {
      state = next[(state << 8) | bytes[i]];
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
