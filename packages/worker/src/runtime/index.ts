export { startWorker, WorkerConfigError, defaultSidecarPath, WORKER_VERSION } from "./worker.js";
export type { WorkerOptions, RunningWorker, RuntimeStats } from "./worker.js";
export { Sidecar, SidecarError } from "./sidecar.js";
export type { SidecarOptions, SidecarStats } from "./sidecar.js";
export { parseWorkerArgs, parseBytes, UsageError, USAGE } from "./options.js";
export { TlsStatus, podUidFromCgroup, tlsTargetsFromReply } from "./tlsStatus.js";
export type { TlsStatusOptions, TlsTargetInit } from "./tlsStatus.js";
