import type { EntryInit } from "@tapline/protocol";
import type { FilterAst } from "./ast.js";
import { parseFilter } from "./parser.js";
import { buildPredicate } from "./predicate.js";
import { buildSql } from "./sql.js";
import type { SqlWhere } from "./sql.js";

export interface CompiledFilter {
  text: string;
  ast: FilterAst;
  /** The filter's meaning; fast enough for the live stream (closures built once). */
  predicate(entry: EntryInit): boolean;
  /**
   * `where` over the columns of columns.ts with positional `?` params ("1" for the empty
   * filter). When `exact` is false the clause selects a superset: apply `predicate` to the
   * decoded rows.
   */
  sql: SqlWhere;
}

/** Parses and compiles a filter; throws FilterSyntaxError with the position of the problem. */
export function compileFilter(text: string): CompiledFilter {
  const ast = parseFilter(text);
  return { text, ast, predicate: buildPredicate(ast), sql: buildSql(ast) };
}
