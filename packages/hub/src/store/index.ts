export { EntryStore } from "./store.js";
export type { StoreOptions, NewRow, SqlFilter, StoreStats } from "./store.js";
