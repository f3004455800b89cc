export { queryEntries, scanEntries } from "./entries.js";
export type { EntryPage } from "./entries.js";
export { MATCH_ALL, FilterSyntaxError } from "./filter.js";
export type { CompiledFilter, FilterCompiler } from "./filter.js";
