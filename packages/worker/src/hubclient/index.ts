export { HubClient } from "./client.js";
export type { HubClientOptions, HubClientStats } from "./client.js";
