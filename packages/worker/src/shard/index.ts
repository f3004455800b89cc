export { createEngine } from "./engine.js";
export type { DissectEngine, EngineOptions } from "./engine.js";
export { flowHash } from "./flowhash.js";
export { mergeStats } from "./stats.js";
export type { K8sEvent } from "./batch.js";
