export { harEntry, harLog, isHttpEntry } from "./har.js";
export type { Har } from "./har.js";
