export { runCli, buildProgram } from "./program.js";
export { versionInfo } from "./version.js";
export type { VersionInfo } from "./version.js";
