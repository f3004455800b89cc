export { createEngine } from "./engine.js";
export type { DissectEngine, EngineHealth, EngineOptions } from "./engine.js";
export { flowHash } from "./flowhash.js";
export { mergeStats } from "./stats.js";
export { DissectorSwitch, resolveDissectorNames, allDissectorNames, enabledNames } from "./switch.js";
export type { K8sEvent } from "./batch.js";
