// The hub's side of the filter contract (src/filter owns the language): a compiled filter is a
// JS predicate (live stream, rows the SQL cannot decide) plus SQL over filter/columns.ts.
import type { EntryInit } from "@tapline/protocol";
import { FilterSyntaxError } from "../filter/errors.js";

export interface CompiledFilter {
  predicate(entry: EntryInit): boolean;
  /** `hints`: see filter/sql.ts (SqlWhere): where the store may look for the rows first. */
  sql: { where: string; params: unknown[]; exact: boolean; hints?: readonly { column: string; values: readonly string[] }[] };
}

export type FilterCompiler = (text: string) => CompiledFilter;

export const MATCH_ALL: CompiledFilter = { predicate: () => true, sql: { where: "1", params: [], exact: true } };

export { FilterSyntaxError };
