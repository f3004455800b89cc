export { Pipeline, defaultFlowLimits } from "./pipeline.js";
export type { PipelineOptions, PipelineStats, DissectorStats, FlowLimits } from "./pipeline.js";
export { DirBuffer } from "./dirbuffer.js";
