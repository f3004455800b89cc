export { LiveStream } from "./live.js";
export type { LiveOptions, LiveSocket } from "./live.js";
export { entryJson } from "./json.js";
