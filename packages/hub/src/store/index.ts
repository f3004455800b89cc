export { EntryStore } from "./store.js";
export type { StoreOptions, NewRow, SqlFilter, StoreStats, SeqUpdate } from "./store.js";
