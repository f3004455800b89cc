export { HubMetrics } from "./metrics.js";
