export { dissectFile, DissectInputError } from "./dissect-file.js";
export type { DissectOptions, DissectResult } from "./dissect-file.js";
export { EntryWriter, formatEntry, tableHeader } from "./format.js";
export type { DissectFormat } from "./format.js";
