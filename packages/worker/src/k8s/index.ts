export { IpIndex, podInfo, workloadOf } from "./ipIndex.js";
export type { PodInfo } from "./ipIndex.js";
export { podMatcher, tappedIps, captureFilter, TapTargetError } from "./tapTarget.js";
export { PodWatcher, loadKubeConfig } from "./watcher.js";
export type { PodWatcherOptions } from "./watcher.js";
export { meshSidecar, meshScope, ISTIO_PROXY_CONTAINER, MESH_SCOPE_NONE } from "./mesh.js";
