// SPEC §3 applied to an Entry before it is stored or sent anywhere: names on every carrier
// (HTTP/gRPC headers and trailers, query, urlencoded and multipart forms, JSON at any depth,
// Kafka record headers and JSON values, gRPC messages in JSON, Redis hash/stream fields and
// CONFIG parameters in requests and replies), credentials of Redis AUTH/HELLO/MIGRATE/ACL/CONFIG
// and Kafka SASL, and the user's value patterns. The key stays, the value becomes "[REDACTED]".
//
// gRPC messages in protobuf are rendered by the worker as raw fields (`1: "text"`, no schema),
// so they carry field numbers, not names: only value patterns apply to them. The same message
// sent as application/grpc+json is JSON, and its keys are matched.
import { RedisKind } from "@tapline/protocol";
export { RedactConfigError, checkValuePattern } from "./pattern.js";
import type {
  BodyInit, EntryInit, GrpcInfoInit, HeaderInit, KafkaTopicInit, RedisRequestInit, RedisValueInit,
} from "@tapline/protocol";
import type { LinearRegex } from "../regex/index.js";
import { RedactConfigError, checkValuePattern } from "./pattern.js";
import { NameMatcher } from "./names.js";
import { RedactPrecheck } from "./precheck.js";
import { redisFieldValueArgs, redisReplySecrets } from "./redis.js";
import { REDACTED, redactJson, redactMultipart, redactPathQuery, redactUrlEncoded } from "./text.js";

export interface RedactOptions {
  /** Use the SPEC §3 words and allow list. */
  defaults: boolean;
  /** Extra sensitive names (`--redact KEY`), matched like the defaults. */
  keys: string[];
  /**
   * Regular expressions (JavaScript source text, no flags) whose matches in any value are
   * replaced. They run on every stored value, so they run in linear time (regex/linear.ts):
   * backreferences and lookaround are refused at start-up.
   */
  valuePatterns: string[];
}

const REDACTED_BYTES = Buffer.from(REDACTED);

export class Redactor {
  private readonly names: NameMatcher;
  private readonly patterns: LinearRegex[];
  private changed = false;
  private readonly precheck: RedactPrecheck;

  constructor(options: RedactOptions) {
    this.names = new NameMatcher({ defaults: options.defaults, keys: options.keys });
    this.patterns = options.valuePatterns.map(checkValuePattern);
    this.precheck = new RedactPrecheck(this.names, this.patterns.length > 0);
  }

  /** False only when redactEntry would provably leave this encoded Entry unchanged (precheck.ts). */
  mayRedact(encoded: Uint8Array): boolean {
    return this.precheck.mayRedact(encoded);
  }

  /** Redacts `entry` in place; returns true (and sets entry.redacted) when anything changed. */
  redactEntry(entry: EntryInit): boolean {
    this.changed = false;
    const req = entry.httpRequest;
    if (req) {
      if (req.path) req.path = this.values(this.tracked(req.path, redactPathQuery(req.path, this.names)));
      this.headers(req.headers);
      this.headers(req.trailers);
      if (req.body) this.body(req.body, req.headers);
    }
    const res = entry.httpResponse;
    if (res) {
      this.headers(res.headers);
      this.headers(res.trailers);
      if (res.body) this.body(res.body, res.headers);
    }
    if (entry.redisRequest) this.redis(entry.redisRequest);
    const reply = entry.redisResponse?.value;
    if (reply) {
      redisReplySecrets(entry.redisRequest, reply, this.names, this.redisSecret);
      this.redisValue(reply);
    }
    if (entry.grpc) this.grpc(entry.grpc);
    const kreq = entry.kafkaRequest;
    if (kreq) {
      if (kreq.saslAuth && kreq.saslAuth.length > 0) {
        kreq.saslAuth = REDACTED_BYTES;
        this.changed = true;
      }
      this.kafkaTopics(kreq.topics);
    }
    if (entry.kafkaResponse) this.kafkaTopics(entry.kafkaResponse.topics);
    if (this.changed) entry.redacted = true;
    return this.changed;
  }

  private headers(headers: HeaderInit[] | null | undefined): void {
    if (!headers) return;
    for (const h of headers) {
      if (!h.value) continue;
      if (this.names.isSensitive(h.name ?? "")) {
        if (h.value !== REDACTED) {
          h.value = REDACTED;
          this.changed = true;
        }
      } else {
        h.value = this.values(h.value);
      }
    }
  }

  /** Applies the value patterns; marks a change. */
  private values(text: string): string {
    let out = text;
    for (const re of this.patterns) out = re.replaceAll(out, REDACTED);
    if (out !== text) this.changed = true;
    return out;
  }

  /** Returns the redacted text, marking a change when it differs. */
  private tracked(before: string, after: string): string {
    if (after !== before) this.changed = true;
    return after;
  }

  private body(body: BodyInit, headers: HeaderInit[] | null | undefined): void {
    const data = body.data;
    if (!data || data.length === 0) return;
    // Most bodies hold no sensitive name (e.g. a response to a request with secrets): no latin1
    // copy and walk of them.
    if (!this.precheck.mayHoldName(data)) return;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const rawType = body.contentType || headerValue(headers, "content-type");
    const text = bytes.toString("latin1");
    let out = this.bodyText(text, rawType.toLowerCase(), rawType);
    out = this.values(out);
    if (out !== text) {
      body.data = Buffer.from(out, "latin1");
      this.changed = true;
    }
  }

  /** `contentType` lower-cased for matching; `rawType` as sent, for the boundary (case-sensitive, RFC 2046 §5.1.1). */
  private bodyText(text: string, contentType: string, rawType: string): string {
    if (contentType.includes("x-www-form-urlencoded")) return redactUrlEncoded(text, this.names);
    if (contentType.startsWith("multipart/")) {
      const boundary = /boundary="?([^";]+)"?/i.exec(rawType)?.[1] ?? sniffBoundary(text);
      return boundary ? redactMultipart(text, boundary, this.names) : text;
    }
    if (contentType.includes("json") || looksLikeJson(text)) return redactJson(text, this.names);
    const boundary = sniffBoundary(text);
    if (boundary) return redactMultipart(text, boundary, this.names);
    return text;
  }

  private redis(req: RedisRequestInit): void {
    const args = req.args;
    if (!args || args.length === 0) return;
    const command = (req.command ?? "").toUpperCase();
    const secret = redisSecretArgs(command, args, this.names);
    redisFieldValueArgs(command, args, this.names, secret);
    for (let i = 0; i < args.length; i++) {
      if (secret.has(i)) {
        if (args[i] !== REDACTED) {
          args[i] = REDACTED;
          this.changed = true;
        }
      } else {
        args[i] = this.values(args[i]);
      }
    }
  }

  /** A reply value that belongs to a sensitive name becomes the bulk string "[REDACTED]". */
  private readonly redisSecret = (v: RedisValueInit): void => {
    if (v.kind === RedisKind.NULL || (v.text === REDACTED && !v.elements?.length)) return;
    v.kind = RedisKind.BULK_STRING;
    v.text = REDACTED;
    v.elements = [];
    v.integer = 0;
    v.double = 0;
    v.boolean = false;
    v.size = REDACTED.length;
    v.truncated = false;
    this.changed = true;
  };

  private grpc(info: GrpcInfoInit): void {
    for (const list of [info.requestMessages, info.responseMessages]) {
      for (const m of list ?? []) {
        if (m.decoded) m.decoded = this.values(m.decoded);
        const data = m.data;
        if (!data || data.length === 0) continue;
        const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1");
        const out = this.values(!m.compressed && looksLikeJson(text) ? this.tracked(text, redactJson(text, this.names)) : text);
        if (out !== text) m.data = Buffer.from(out, "latin1");
      }
    }
  }

  private redisValue(v: RedisValueInit): void {
    if (v.text) v.text = this.values(v.text);
    if (v.elements) for (const e of v.elements) this.redisValue(e);
  }

  private kafkaTopics(topics: KafkaTopicInit[] | null | undefined): void {
    if (!topics) return;
    for (const t of topics) {
      for (const p of t.partitions ?? []) {
        for (const r of p.records ?? []) {
          this.headers(r.headers);
          if (r.value && r.value.length > 0) {
            const bytes = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
            const text = bytes.toString("latin1");
            const out = this.values(looksLikeJson(text) ? this.tracked(text, redactJson(text, this.names)) : text);
            if (out !== text) r.value = Buffer.from(out, "latin1");
          }
        }
      }
    }
  }
}

/**
 * `name`: lower case ASCII without "i" or "k" (e.g. "content-type"), so only a name of the same
 * length can lower-case to it (U+0130 lower-cases to two units, U+212A to "k"): the others are
 * skipped without lower-casing (a new string) each.
 */
function headerValue(headers: HeaderInit[] | null | undefined, name: string): string {
  if (!headers) return "";
  for (const h of headers) if (h.name && h.name.length === name.length && h.name.toLowerCase() === name) return h.value ?? "";
  return "";
}

function looksLikeJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b || c === 0x5b;
  }
  return false;
}

/** A multipart body without a Content-Type (e.g. truncated headers) starts with its delimiter line. */
function sniffBoundary(text: string): string | undefined {
  if (!text.startsWith("--")) return undefined;
  const eol = text.indexOf("\r\n");
  if (eol < 3 || eol > 72) return undefined; // RFC 2046 §5.1.1: boundary is 1..70 chars
  if (!/content-disposition:\s*form-data/i.test(text.slice(eol, eol + 256))) return undefined;
  return text.slice(2, eol);
}

/**
 * Indexes of the credential arguments of a Redis command (the command may carry its subcommand,
 * "ACL SETUSER", or leave it as the first argument):
 * AUTH [username] password; HELLO protover AUTH username password; MIGRATE ... AUTH password |
 * AUTH2 username password; ACL SETUSER name >pass <pass #hash !hash; CONFIG SET requirepass x.
 */
function redisSecretArgs(command: string, args: string[], names: NameMatcher): Set<number> {
  const out = new Set<number>();
  const parts = command.split(" ");
  const sub = parts[1] ?? "";
  const offset = parts.length > 1 ? 0 : 1; // where the subcommand's own arguments start
  const subcommand = parts.length > 1 ? sub : (args[0] ?? "").toUpperCase();
  switch (parts[0]) {
    case "AUTH":
      for (let i = 0; i < args.length; i++) out.add(i);
      break;
    case "HELLO":
    case "MIGRATE":
      for (let i = 0; i < args.length; i++) {
        const a = args[i].toUpperCase();
        if (a === "AUTH") { out.add(i + 1); if (parts[0] === "HELLO") out.add(i + 2); }
        else if (a === "AUTH2") { out.add(i + 1); out.add(i + 2); }
      }
      break;
    case "ACL":
      if (subcommand === "SETUSER") {
        for (let i = offset + 1; i < args.length; i++) if (/^[<>#!]/.test(args[i])) out.add(i);
      }
      break;
    case "CONFIG":
      if (subcommand === "SET") {
        for (let i = offset; i + 1 < args.length; i += 2) if (names.isSensitive(args[i])) out.add(i + 1);
      }
      break;
  }
  for (const i of out) if (i >= args.length) out.delete(i);
  return out;
}
