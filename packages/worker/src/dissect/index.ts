// `@tapline/worker/dissect`: what offline dissection needs, without the runtime's Kubernetes
// client and hub connection (they cost the CLI ~1 s of start-up).
export { dissectFile, DissectInputError } from "./dissect-file.js";
export type { DissectOptions, DissectResult } from "./dissect-file.js";
export { dissectLimitsFor, EntryWriter, formatEntry, loadJsonl, tableHeader } from "./format.js";
export type { DissectFormat } from "./format.js";
export { dissectors, selectDissectors } from "../dissectors/registry.js";
