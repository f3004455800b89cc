export { createHub, startHub, HUB_VERSION } from "./app.js";
export type { HubOptions, StartHubOptions, RunningHub } from "./app.js";
export { Redactor, RedactConfigError, REDACTED } from "./redact/index.js";
export type { RedactOptions } from "./redact/index.js";
export { EntryStore } from "./store/index.js";
export { mergeCaptures, PcapFormatError } from "./pcap/index.js";
export type { PcapSource, PcapQuery } from "./pcap/index.js";
export type { CompiledFilter, FilterCompiler } from "./query/index.js";
export { parseSize } from "./size.js";
