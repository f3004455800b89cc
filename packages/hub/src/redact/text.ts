// Redaction of the textual carriers: query strings / urlencoded forms, multipart forms and JSON.
// Each works on a latin1 string so that a body's bytes round-trip exactly (Buffer latin1 is
// one byte per char); sensitive names are ASCII, so matching them in latin1 is exact.
// Each returns the input string itself when nothing changed, so callers can skip re-encoding.
import type { NameMatcher } from "./names.js";

export const REDACTED = "[REDACTED]";
const QUOTED_REDACTED = `"${REDACTED}"`;

/** application/x-www-form-urlencoded (and a URL's query): `a=b&c=d`, `+` is a space. */
export function redactUrlEncoded(text: string, names: NameMatcher): string {
  let out = "";
  let last = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("&", start);
    if (end < 0) end = text.length;
    const eq = text.indexOf("=", start);
    if (eq >= 0 && eq < end && names.isSensitive(decodeComponent(text.slice(start, eq)))) {
      out += text.slice(last, eq + 1) + REDACTED;
      last = end;
    }
    start = end + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

function decodeComponent(s: string): string {
  // Most names hold neither: no replace and decode (each a new string) per parameter.
  if (s.indexOf("%") < 0 && s.indexOf("+") < 0) return s;
  const plus = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus; // malformed %-escape: match on the raw name
  }
}

/**
 * The query of a request-target (`/p?a=b`). RFC 9112 §3.2: a request-target has no fragment, so a
 * `#` seen on the wire is just a byte of the query, and the pairs after it are redacted too.
 */
export function redactPathQuery(path: string, names: NameMatcher): string {
  const q = path.indexOf("?");
  if (q < 0) return path;
  const query = path.slice(q + 1);
  const redacted = redactUrlEncoded(query, names);
  return redacted === query ? path : path.slice(0, q + 1) + redacted;
}

/**
 * RFC 7578 multipart/form-data: each part's `Content-Disposition: form-data; name="x"` gives the
 * field name; a sensitive field's content (up to the next delimiter, or the end of a truncated
 * body) is replaced.
 */
export function redactMultipart(text: string, boundary: string, names: NameMatcher): string {
  const delimiter = `--${boundary}`;
  let out = "";
  let last = 0;
  let pos = text.indexOf(delimiter);
  while (pos >= 0) {
    const headersStart = pos + delimiter.length;
    if (text.startsWith("--", headersStart)) break; // close-delimiter
    const headersEnd = text.indexOf("\r\n\r\n", headersStart);
    if (headersEnd < 0) break;
    const contentStart = headersEnd + 4;
    const next = text.indexOf(`\r\n${delimiter}`, contentStart);
    const contentEnd = next < 0 ? text.length : next;
    const name = /\bname="([^"]*)"/i.exec(text.slice(headersStart, headersEnd))?.[1] ?? /\bname=([^;\s]+)/i.exec(text.slice(headersStart, headersEnd))?.[1];
    if (name !== undefined && names.isSensitive(name)) {
      out += text.slice(last, contentStart) + REDACTED;
      last = contentEnd;
    }
    if (next < 0) break;
    pos = next + 2;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * JSON keys at any depth (RFC 8259), lexically: every string followed by `:` is a key, and the
 * value of a sensitive key (scalar, object or array) becomes "[REDACTED]". Being lexical, it
 * also works on a truncated body (the value then runs to the end) and keeps the formatting.
 */
export function redactJson(text: string, names: NameMatcher): string {
  let out = "";
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 0x22 /* " */) { i++; continue; }
    const strEnd = skipString(text, i);
    let j = strEnd;
    while (j < n && isSpace(text.charCodeAt(j))) j++;
    if (j >= n || text.charCodeAt(j) !== 0x3a /* : */) { i = strEnd; continue; }
    j++;
    if (!names.isSensitive(jsonKey(text, i, strEnd))) { i = j; continue; }
    while (j < n && isSpace(text.charCodeAt(j))) j++;
    const valueEnd = skipValue(text, j);
    out += text.slice(last, j) + QUOTED_REDACTED;
    last = valueEnd;
    i = valueEnd;
  }
  return last === 0 ? text : out + text.slice(last);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index after the closing quote of the string opening at `i` (or the end of the text). */
function skipString(text: string, i: number): number {
  let k = i + 1;
  while (k < text.length) {
    const c = text.charCodeAt(k);
    if (c === 0x5c /* \ */) k += 2;
    else if (c === 0x22) return k + 1;
    else k++;
  }
  return text.length;
}

function jsonKey(text: string, start: number, end: number): string {
  let k = start + 1;
  while (k < end && text.charCodeAt(k) !== 0x5c /* \\ */) k++;
  if (k >= end) return text.slice(start + 1, end - 1); // no escape: one slice, not two
  const raw = text.slice(start, end);
  try {
    return JSON.parse(raw) as string; // \u escapes must not hide a sensitive name
  } catch {
    return raw;
  }
}

/** Index after the value starting at `i`: a string, a bracketed value, or a bare scalar. */
function skipValue(text: string, i: number): number {
  const n = text.length;
  if (i >= n) return n;
  const c = text.charCodeAt(i);
  if (c === 0x22) return skipString(text, i);
  if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
    let depth = 0;
    let k = i;
    while (k < n) {
      const d = text.charCodeAt(k);
      if (d === 0x22) { k = skipString(text, k); continue; }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) { depth--; if (depth === 0) return k + 1; }
      k++;
    }
    return n;
  }
  let k = i;
  while (k < n) {
    const d = text.charCodeAt(k);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) break;
    k++;
  }
  return k;
}
