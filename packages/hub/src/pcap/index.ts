export { mergeCaptures, parseCapture, PcapFormatError } from "./merge.js";
export type { MergeResult } from "./merge.js";
export type { PcapSource, PcapQuery } from "./source.js";
