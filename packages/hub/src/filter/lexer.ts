// Tokenizer of the filter language (README.md in this folder is the reference).
// Positions are UTF-16 offsets into the filter text, as JavaScript strings index them.
import { FilterSyntaxError } from "./errors.js";

export type TokenKind =
  | "ident" // field or protocol name; dots belong to it: request.headers, src.pod
  | "string"
  | "number"
  | "regex"
  | "and"
  | "or"
  | "not"
  | "true"
  | "false"
  | "op" // ==, !=, <, <=, >, >=, contains, startsWith, endsWith, matches
  | "in"
  | ","
  | "("
  | ")"
  | "["
  | "]"
  | "eof";

export interface Token {
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  /** Decoded value: string contents, regex source, number. */
  value?: string | number;
  /** Regex flags of a /re/flags literal. */
  flags?: string;
  pos: number;
  end: number;
}

const wordKinds: Record<string, TokenKind> = {
  and: "and",
  or: "or",
  not: "not",
  true: "true",
  false: "false",
  contains: "op",
  startsWith: "op",
  endsWith: "op",
  matches: "op",
  in: "in",
};

const simpleEscapes: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "/": "/",
};

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 46; // the dot joins field paths: src.pod
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      const word = text.slice(start, i);
      tokens.push({ kind: wordKinds[word] ?? "ident", text: word, pos: start, end: i });
      continue;
    }
    if (isDigit(c) || (c === 45 && i + 1 < n && (isDigit(text.charCodeAt(i + 1)) || text[i + 1] === "."))) {
      tokens.push(readNumber(text, start));
      i = tokens[tokens.length - 1]!.end;
      continue;
    }
    if (c === 34 || c === 39) {
      const tok = readString(text, start);
      tokens.push(tok);
      i = tok.end;
      continue;
    }
    if (c === 47) {
      const tok = readRegex(text, start);
      tokens.push(tok);
      i = tok.end;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "==" || two === "!=" || two === "<=" || two === ">=") {
      tokens.push({ kind: "op", text: two, pos: start, end: i + 2 });
      i += 2;
      continue;
    }
    if (two === "&&" || two === "||") {
      tokens.push({ kind: two === "&&" ? "and" : "or", text: two, pos: start, end: i + 2 });
      i += 2;
      continue;
    }
    const one = text[i]!;
    if (one === "<" || one === ">") {
      tokens.push({ kind: "op", text: one, pos: start, end: i + 1 });
    } else if (one === "!") {
      tokens.push({ kind: "not", text: one, pos: start, end: i + 1 });
    } else if (one === "(" || one === ")" || one === "[" || one === "]" || one === ",") {
      tokens.push({ kind: one, text: one, pos: start, end: i + 1 });
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      const hint = one === "=" ? "did you mean '=='?" : one === "&" ? "did you mean '&&'?" : one === "|" ? "did you mean '||'?" : undefined;
      throw new FilterSyntaxError(`unexpected character '${ch}'`, start, start + ch.length, hint);
    }
    i++;
  }
  tokens.push({ kind: "eof", text: "", pos: n, end: n });
  return tokens;
}

// number := -? (digits (. digits?)? | . digits) ([eE] [+-]? digits)?
function readNumber(text: string, start: number): Token {
  const m = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(start));
  let end = start + (m ? m[0].length : 1);
  // A number glued to letters or a second dot (`12ab`, `1.2.3`) is one bad token, not two.
  let bad = !m;
  while (end < text.length && (isIdentPart(text.charCodeAt(end)) || text[end] === ".")) {
    end++;
    bad = true;
  }
  const raw = text.slice(start, end);
  if (bad) throw new FilterSyntaxError(`invalid number '${raw}'`, start, end);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new FilterSyntaxError(`number '${raw}' is out of range`, start, end);
  return { kind: "number", text: raw, value, pos: start, end };
}

function readString(text: string, start: number): Token {
  const quote = text[start]!;
  let out = "";
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === quote) return { kind: "string", text: text.slice(start, i + 1), value: out, pos: start, end: i + 1 };
    if (ch !== "\\") {
      out += ch;
      i++;
      continue;
    }
    const esc = text[i + 1];
    if (esc === undefined) break;
    const simple = simpleEscapes[esc];
    if (simple !== undefined) {
      out += simple;
      i += 2;
      continue;
    }
    const hex = esc === "x" ? /^[0-9a-fA-F]{2}/.exec(text.slice(i + 2)) : esc === "u" ? /^(?:[0-9a-fA-F]{4}|\{[0-9a-fA-F]{1,6}\})/.exec(text.slice(i + 2)) : null;
    const code = hex ? parseInt(hex[0].replace(/[{}]/g, ""), 16) : -1;
    if (!hex || code > 0x10ffff) {
      throw new FilterSyntaxError(`invalid escape '\\${esc}' in string`, i, i + 2);
    }
    out += String.fromCodePoint(code);
    i += 2 + hex[0].length;
  }
  throw new FilterSyntaxError("unterminated string", start, text.length);
}

// /source/flags: a backslash escapes the next character and a '/' inside [...] does not end it.
function readRegex(text: string, start: number): Token {
  let i = start + 1;
  let inClass = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "\\") {
      i += 2;
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "]") inClass = false;
    else if (ch === "/" && !inClass) break;
    i++;
  }
  if (i >= text.length) throw new FilterSyntaxError("unterminated regex", start, text.length);
  const source = text.slice(start + 1, i);
  let end = i + 1;
  while (end < text.length && isIdentStart(text.charCodeAt(end))) end++;
  const flags = text.slice(i + 1, end);
  return { kind: "regex", text: text.slice(start, end), value: source, flags, pos: start, end };
}
