// The hub's side of the filter contract (src/filter owns the language): a compiled filter is a
// JS predicate (live stream, rows the SQL cannot decide) plus SQL over filter/columns.ts.
import type { EntryInit } from "@tapline/protocol";
import { FilterSyntaxError } from "../filter/errors.js";

export interface CompiledFilter {
  predicate(entry: EntryInit): boolean;
  sql: { where: string; params: unknown[]; exact: boolean };
}

export type FilterCompiler = (text: string) => CompiledFilter;

export const MATCH_ALL: CompiledFilter = { predicate: () => true, sql: { where: "1", params: [], exact: true } };

export { FilterSyntaxError };
