export { buildManifests } from "./build.js";
export type { ManifestInput } from "./build.js";
export { manifestsToYaml } from "./yaml.js";
