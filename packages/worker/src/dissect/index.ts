export { dissectFile, DissectInputError } from "./dissect-file.js";
export type { DissectOptions, DissectResult } from "./dissect-file.js";
