// HTTP/1.0 and HTTP/1.1 message syntax, RFC 9112 (https://www.rfc-editor.org/rfc/rfc9112).
//
//   HTTP-message   = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]   ; §2.1
//   start-line     = request-line / status-line
//   request-line   = method SP request-target SP HTTP-version                     ; §3
//   status-line    = HTTP-version SP status-code SP [ reason-phrase ]             ; §4
//   HTTP-version   = "HTTP" "/" DIGIT "." DIGIT                                   ; §2.3
//   field-line     = field-name ":" OWS field-value OWS                           ; §5
//   obs-fold       = OWS CRLF RWS            ; §5.2: replace with SP before interpreting
//   chunked-body   = *chunk last-chunk trailer-section CRLF                        ; §7.1
//   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size     = 1*HEXDIG
//   last-chunk     = 1*("0") [ chunk-ext ] CRLF
//   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   trailer-section = *( field-line CRLF )
//
// Everything here is pure and never throws: it reads a latin1 string of one complete header
// section (found with Buffer.indexOf by the caller) and returns a result or an error string.
import type { HeaderInit } from "@tapline/protocol";

/** Methods accepted by detection (RFC 9110 §9 plus the common WebDAV/extension ones). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
  "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "PURGE", "LINK", "UNLINK",
]);
const LONGEST_METHOD = 9;

export const CRLFCRLF = Buffer.from("\r\n\r\n");
export const LFLF = Buffer.from("\n\n");

/** What the header fields say about framing and content (RFC 9112 §6). */
export interface FieldInfo {
  headers: HeaderInit[];
  /** Fields beyond limits.maxItems (framing fields among them are still honoured). */
  dropped: number;
  /** -1 when absent. */
  contentLength: number;
  /** Transfer-Encoding present; `chunked` when its final coding is chunked (§6.1). */
  transferEncoding: boolean;
  chunked: boolean;
  contentEncoding: string;
  contentType: string;
  host: string;
  connectionClose: boolean;
  connectionKeepAlive: boolean;
  upgrade: string;
  error?: string;
}

export interface RequestHead extends FieldInfo {
  method: string;
  target: string;
  version: string;
}

export interface ResponseHead extends FieldInfo {
  version: string;
  status: number;
  reason: string;
}

function isTokenChar(c: number): boolean {
  // tchar (RFC 9110 §5.6.2): visible ASCII except delimiters
  return c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x28 && c !== 0x29 && c !== 0x2c && c !== 0x2f &&
    !(c >= 0x3a && c <= 0x40) && c !== 0x5b && c !== 0x5c && c !== 0x5d && c !== 0x7b && c !== 0x7d;
}

function isVersion(v: string): boolean {
  return v.length === 8 && v.startsWith("HTTP/1.") && v.charCodeAt(7) >= 0x30 && v.charCodeAt(7) <= 0x39;
}

function lineEnd(s: string, from: number): number {
  const n = s.indexOf("\n", from);
  return n < 0 ? s.length : n;
}

function trimCR(s: string, start: number, end: number): number {
  return end > start && s.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

/** Parses `field-line`s from `pos` to the end of `s` (which ends with the empty line). */
export function parseFields(s: string, pos: number, maxItems: number): FieldInfo {
  const info: FieldInfo = {
    headers: [], dropped: 0, contentLength: -1, transferEncoding: false, chunked: false,
    contentEncoding: "", contentType: "", host: "", connectionClose: false, connectionKeepAlive: false, upgrade: "",
  };
  let last: HeaderInit | undefined;
  let lastName = "";
  while (pos < s.length) {
    const nl = lineEnd(s, pos);
    const end = trimCR(s, pos, nl);
    const next = nl + 1;
    if (end === pos) break; // the empty line ending the section
    const c0 = s.charCodeAt(pos);
    if (c0 === 0x20 || c0 === 0x09) {
      // §5.2 obs-fold: continuation of the previous field value
      const more = s.slice(pos, end).trim();
      if (last) last.value = last.value ? `${last.value} ${more}` : more;
      if (lastName) applyField(info, lastName, more, true);
      pos = next;
      continue;
    }
    const colon = s.indexOf(":", pos);
    if (colon < 0 || colon >= end || colon === pos) {
      info.error ??= "field line without a name and colon";
      pos = next;
      continue;
    }
    let nameEnd = colon;
    // §5.1: no whitespace is allowed between the field name and colon; tolerate it, as servers must reject
    while (nameEnd > pos && (s.charCodeAt(nameEnd - 1) === 0x20 || s.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
    const name = s.slice(pos, nameEnd);
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (s.charCodeAt(vs) === 0x20 || s.charCodeAt(vs) === 0x09)) vs++;
    while (ve > vs && (s.charCodeAt(ve - 1) === 0x20 || s.charCodeAt(ve - 1) === 0x09)) ve--;
    const value = s.slice(vs, ve);
    if (info.headers.length < maxItems) {
      last = { name, value };
      info.headers.push(last);
    } else {
      info.dropped++;
      last = undefined;
    }
    lastName = name;
    applyField(info, name, value, false);
    pos = next;
  }
  return info;
}

/**
 * `name` (as long as `lower`) equals `lower`, a lower-case token, ignoring ASCII case, without
 * allocating (toLowerCase on every name of a matching length was most of applyField's cost).
 * Only letters compare through `| 0x20` (A-Z to a-z): "\r" | 0x20 would pass for "-".
 */
function isName(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    const l = lower.charCodeAt(i);
    if (c !== l && (l < 0x61 || (c | 0x20) !== l)) return false;
  }
  return true;
}

/** Interprets the fields that decide framing and content (by name length first, names compared without lowercasing). */
function applyField(info: FieldInfo, name: string, value: string, folded: boolean): void {
  switch (name.length) {
    case 4:
      if (isName(name, "host") && !folded) info.host = value;
      break;
    case 7:
      if (isName(name, "upgrade")) info.upgrade = folded ? `${info.upgrade} ${value}` : value;
      break;
    case 10:
      if (isName(name, "connection")) {
        // the usual single token first: no lowercased copy and split
        if (value.length === 10 && isName(value, "keep-alive")) info.connectionKeepAlive = true;
        else if (value.length === 5 && isName(value, "close")) info.connectionClose = true;
        else {
          for (const t of value.toLowerCase().split(",")) {
            const tok = t.trim();
            if (tok === "close") info.connectionClose = true;
            else if (tok === "keep-alive") info.connectionKeepAlive = true;
          }
        }
      }
      break;
    case 12:
      if (isName(name, "content-type") && !folded) info.contentType = value;
      break;
    case 14:
      if (isName(name, "content-length")) {
        // §6.3 item 5: a list of identical values is one value; differing values are an error
        const single = parseDecimal(value);
        if (single >= 0 && !(info.contentLength >= 0 && info.contentLength !== single)) {
          info.contentLength = single; // one plain number: no split
          break;
        }
        for (const part of value.split(",")) {
          const n = parseDecimal(part.trim());
          if (n < 0) info.error ??= `invalid Content-Length "${value.slice(0, 40)}"`;
          else if (info.contentLength >= 0 && info.contentLength !== n) info.error ??= "conflicting Content-Length values";
          else info.contentLength = n;
        }
      }
      break;
    case 16:
      if (isName(name, "content-encoding")) {
        const v = value.trim().toLowerCase();
        info.contentEncoding = info.contentEncoding ? `${info.contentEncoding}, ${v}` : v;
      }
      break;
    case 17:
      if (isName(name, "transfer-encoding")) {
        info.transferEncoding = true;
        // §6.1: chunked must be the final coding
        if (value.length === 7 && isName(value, "chunked")) info.chunked = true;
        else {
          const codings = value.toLowerCase().split(",");
          info.chunked = codings[codings.length - 1].trim() === "chunked";
        }
      }
      break;
  }
}

/** Decimal digits to a number; -1 when empty, non-digit or beyond 2^53. */
export function parseDecimal(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Parses a complete request header section (`s` holds start-line to the empty line). */
export function parseRequestHead(s: string, maxItems: number): RequestHead | string {
  const nl = lineEnd(s, 0);
  const end = trimCR(s, 0, nl);
  const sp1 = s.indexOf(" ", 0);
  if (sp1 <= 0 || sp1 >= end) return "request line without method";
  for (let i = 0; i < sp1; i++) if (!isTokenChar(s.charCodeAt(i))) return "invalid method";
  const sp2 = s.lastIndexOf(" ", end - 1);
  if (sp2 <= sp1) return "request line without version";
  const version = s.slice(sp2 + 1, end);
  if (!isVersion(version)) return `unsupported version "${version.slice(0, 16)}"`;
  const info = parseFields(s, nl + 1, maxItems) as RequestHead;
  info.method = s.slice(0, sp1);
  info.target = s.slice(sp1 + 1, sp2);
  info.version = version;
  return info;
}

/** Parses a complete response header section. */
export function parseResponseHead(s: string, maxItems: number): ResponseHead | string {
  const nl = lineEnd(s, 0);
  const end = trimCR(s, 0, nl);
  const version = s.slice(0, 8);
  if (!isVersion(version) || s.charCodeAt(8) !== 0x20) return "invalid status line";
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return "invalid status code";
    status = status * 10 + d;
  }
  if (status < 100 || (12 < end && s.charCodeAt(12) !== 0x20)) return "invalid status code";
  const info = parseFields(s, nl + 1, maxItems) as ResponseHead;
  info.version = version;
  info.status = status;
  info.reason = end > 13 ? s.slice(13, end) : "";
  return info;
}

/** Largest chunk accepted (1 GiB): bigger sizes are hostile or broken, never allocated for. */
export const MAX_CHUNK_SIZE = 0x40000000;

/**
 * Parses `chunk-size [ chunk-ext ]` from data[start, end) (the line without CRLF).
 * Returns the size, or -1 for a malformed line, -2 for a size over MAX_CHUNK_SIZE.
 */
export function parseChunkSize(data: Buffer, start: number, end: number): number {
  let n = 0;
  let i = start;
  for (; i < end; i++) {
    const c = data[i];
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else break;
    n = n * 16 + d;
    if (n > MAX_CHUNK_SIZE) return -2; // checked per digit: FFFFFFFFFFFF never becomes a length
  }
  if (i === start) return -1;
  // what follows is BWS and chunk-ext (§7.1.1), ignored
  while (i < end && (data[i] === 0x20 || data[i] === 0x09)) i++;
  if (i < end && data[i] !== 0x3b) return -1;
  return n;
}

/** detect() helper: does `data` start with a request line of a known method? */
export function looksLikeRequest(data: Buffer): "yes" | "no" | "more" {
  const n = data.length;
  let i = 0;
  for (; i < n && i <= LONGEST_METHOD; i++) {
    const c = data[i];
    if (c === 0x20) break;
    if (c < 0x41 || c > 0x5a) return "no";
  }
  if (i === n) return n <= LONGEST_METHOD ? "more" : "no";
  if (data[i] !== 0x20 || !KNOWN_METHODS.has(data.toString("latin1", 0, i))) return "no";
  const nl = data.indexOf(0x0a, i);
  if (nl < 0) return n < 8192 ? "more" : "no";
  const end = nl > 0 && data[nl - 1] === 0x0d ? nl - 1 : nl;
  if (end - i < 10) return "no";
  return data.toString("latin1", end - 9, end - 1) === " HTTP/1." && data[end - 1] >= 0x30 && data[end - 1] <= 0x39 ? "yes" : "no";
}

const STATUS_PREFIX = "HTTP/1.";

/** detect() helper: does `data` start with `HTTP/1.x SP 3DIGIT`? */
export function looksLikeResponse(data: Buffer): "yes" | "no" | "more" {
  const n = Math.min(data.length, 12);
  for (let i = 0; i < n; i++) {
    const c = data[i];
    const ok = i < 7 ? c === STATUS_PREFIX.charCodeAt(i) : i === 8 ? c === 0x20 : c >= 0x30 && c <= 0x39;
    if (!ok) return "no";
  }
  return n < 12 ? "more" : "yes";
}
