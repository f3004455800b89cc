export { IngestPipeline } from "./pipeline.js";
export type { IngestCounters, StoredListener } from "./pipeline.js";
export { messageKind, splitBatch, WireError } from "./wire.js";
export type { BatchView } from "./wire.js";
