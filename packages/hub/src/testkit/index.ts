export { TestWorker } from "./worker-client.js";
export type { TestWorkerOptions } from "./worker-client.js";
export { entryWithSecret, CARRIERS } from "../redact/carriers.js";
export type { Carrier } from "../redact/carriers.js";
