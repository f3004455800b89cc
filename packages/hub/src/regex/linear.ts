// User regular expressions (filter `matches`, `--redact-value` patterns) run in linear time.
//
// V8's backtracking engine can spend exponential time on patterns such as `(a+)+$` or
// `(a|aa)+$` and quadratic time on innocent-looking ones such as `.*q.*r` (190 ms on a 15 KB
// body, measured here), and the hub runs these regexes on the event loop that also serves ingest.
// Rejecting "nested quantifiers" by shape does not catch the quadratic cases, so the patterns run
// on RE2's automata instead (re2js, a JavaScript port of RE2: time linear in the subject, no
// backtracking). The language stays JavaScript's: a pattern is first checked by V8, so syntax
// errors read as before, then the features that need backtracking (backreferences, lookaround)
// are rejected with their offset, and the rest is translated to RE2 syntax.
//
// Semantics are RE2's where the two differ: the subject is read as code points (as with the `u`
// flag), `\s` `\d` `\w` `\b` are ASCII, and `.` matches everything but "\n" (JavaScript's
// also stops at "\r", U+2028 and U+2029).
import { RE2JS } from "re2js";

/** Offsets are into `source`; `offset` is undefined when the engine gave none. */
export class RegexError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(message);
    this.name = "RegexError";
  }
}

export interface LinearRegex {
  readonly source: string;
  readonly flags: string;
  /** Whether the pattern matches anywhere in `subject`; time linear in its length. */
  test(subject: string): boolean;
  /** Every match replaced by `replacement` (taken literally); `subject` itself when none. */
  replaceAll(subject: string, replacement: string): string;
}

/**
 * RE2 caps a single repetition at 1000; a program this large (in RE2 instructions) would make
 * every test slow by its size alone (`(a{1000}){1000}`-like blow-ups are refused by RE2 itself).
 */
export const MAX_PROGRAM_SIZE = 20_000;

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, u: 0 };

/** Compiles a JavaScript regex (flags i, m, s, u) for linear-time matching; throws RegexError. */
export function compileLinearRegex(source: string, flags = ""): LinearRegex {
  let bits = 0;
  for (const f of flags) {
    const bit = FLAG_BITS[f];
    if (bit === undefined) throw new RegexError(`unsupported regex flag '${f}' (use i, m, s or u)`);
    bits |= bit;
  }
  try {
    new RegExp(source, flags);
  } catch (err) {
    throw new RegexError((err as Error).message);
  }
  const bad = backtrackingFeature(source);
  if (bad) throw new RegexError(`${bad.what} '${bad.text}' is not supported (regexes run in linear time, without backtracking)`, bad.offset);
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(source), bits);
  } catch (err) {
    // RE2 names the offending fragment in backquotes but gives no offset: find it in the source.
    const message = (err as Error).message.replace(/^error parsing regexp: /, "");
    const fragment = /`([^`]*)`\s*$/.exec(message)?.[1];
    const at = fragment ? source.indexOf(fragment) : -1;
    throw new RegexError(`not supported by the linear-time engine: ${message}`, at >= 0 ? at : undefined);
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) throw new RegexError(`regex too large (${re.programSize()} RE2 instructions, at most ${MAX_PROGRAM_SIZE})`);
  return {
    source,
    flags,
    test: (subject) => re.test(subject),
    replaceAll: (subject, replacement) => (re.test(subject) ? re.matcher(subject).replaceAll(RE2JS.quoteReplacement(replacement)) : subject),
  };
}

/**
 * The first construct of a (V8-valid) pattern that needs backtracking: a backreference (`\1`,
 * `\k<name>`) or a lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`). Escapes and classes are skipped.
 */
function backtrackingFeature(source: string): { what: string; text: string; offset: number } | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(next)) return { what: "backreference", text: /^\\\d+/.exec(source.slice(i))![0], offset: i };
      if (!inClass && next === "k" && source[i + 2] === "<") return { what: "backreference", text: source.slice(i, source.indexOf(">", i) + 1 || undefined), offset: i };
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "(" && source[i + 1] === "?") {
      const look = /^\(\?(?:=|!|<=|<!)/.exec(source.slice(i, i + 4));
      if (look) return { what: "lookaround", text: look[0], offset: i };
    }
  }
  return undefined;
}
