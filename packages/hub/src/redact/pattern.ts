// `--redact` value patterns checked on their own (the CLI checks them before deploying, through
// the `@tapline/hub/redact-pattern` subpath, without loading the rest of the hub).
import { RegexError, compileLinearRegex } from "../regex/index.js";
import type { LinearRegex } from "../regex/index.js";

export class RedactConfigError extends Error {}

/**
 * A `--redact` value pattern compiled for the redactor, or a RedactConfigError that names the
 * pattern and the problem (with its offset when known), so the hub refuses to start on it.
 */
export function checkValuePattern(source: string): LinearRegex {
  if (source === "") throw new RedactConfigError("redact: empty value pattern");
  let re: LinearRegex;
  try {
    re = compileLinearRegex(source);
  } catch (err) {
    if (!(err instanceof RegexError)) throw err;
    const at = err.offset === undefined ? "" : ` (at offset ${err.offset})`;
    throw new RedactConfigError(`redact: invalid value pattern /${source}/: ${err.message}${at}`);
  }
  if (re.test("")) throw new RedactConfigError(`redact: value pattern /${source}/ matches the empty string`);
  return re;
}

