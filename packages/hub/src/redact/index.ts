export { Redactor, RedactConfigError, checkValuePattern } from "./redactor.js";
export type { RedactOptions } from "./redactor.js";
export { NameMatcher, normalizeName, DEFAULT_SENSITIVE_WORDS, DEFAULT_ALLOWED_NAMES } from "./names.js";
export { REDACTED, redactJson, redactUrlEncoded, redactMultipart, redactPathQuery } from "./text.js";
export { RedactPrecheck } from "./precheck.js";
