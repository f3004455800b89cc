export { WorkerRegistry } from "./registry.js";
export type { WorkerInfo, WorkerSocket, PcapAnswers } from "./registry.js";
