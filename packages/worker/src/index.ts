export { PcapReader, CaptureFormatError, readCaptureStream, openCaptureSource } from "./capture/index.js";
export type { PacketHandler, ReaderStats } from "./capture/index.js";
export { Linktype, decodeLink, decodeTcp, decodeUdp, newPacketInfo, ipv4ToString, ipv6ToString, FragmentTable } from "./decode/index.js";
export type { PacketInfo } from "./decode/index.js";
export { HalfStream, ByteBudget, seqDiff, transportOutcome } from "./tcp/index.js";
export { Pipeline, defaultFlowLimits } from "./flows/index.js";
export type { PipelineOptions, PipelineStats, FlowLimits, DissectorStats } from "./flows/index.js";
export { dissectFile, DissectInputError, dissectLimitsFor, EntryWriter, formatEntry, loadJsonl, tableHeader } from "./dissect/index.js";
export type { DissectOptions, DissectResult, DissectFormat } from "./dissect/index.js";
export { dissectors, selectDissectors } from "./dissectors/registry.js";
export { Direction, defaultLimits } from "./dissectors/types.js";
export type {
  Dissector,
  DissectorName,
  DissectorSession,
  SessionContext,
  Detection,
  Feed,
  CloseReason,
  DissectLimits,
  Exchange,
} from "./dissectors/types.js";
export { HubClient } from "./hubclient/index.js";
export type { HubClientOptions, HubClientStats } from "./hubclient/index.js";
export { PcapRing } from "./pcapring/index.js";
export type { FlowSelector, PcapRingOptions, PcapRingStats } from "./pcapring/index.js";
export { IpIndex, PodWatcher, loadKubeConfig, tappedIps, captureFilter, podMatcher, TapTargetError } from "./k8s/index.js";
export type { PodInfo, PodWatcherOptions } from "./k8s/index.js";
export { startWorker, WorkerConfigError, defaultSidecarPath, Sidecar, SidecarError } from "./runtime/index.js";
export type { WorkerOptions, RunningWorker, RuntimeStats, SidecarStats } from "./runtime/index.js";
export { createEngine, flowHash } from "./shard/index.js";
export type { DissectEngine, EngineOptions } from "./shard/index.js";
