// Filter AST -> SQLite WHERE clause over the columns of columns.ts.
//
// Soundness: for every node we build two clauses, `pos` (a superset of the rows where the
// node is true) and `neg` (a superset of the rows where it is false), and `exact` when both
// are exact. `not` swaps them, `and`/`or` combine them by De Morgan, so negating an inexact
// part never drops a matching row: where a side cannot be narrowed it is TRUE ("1").
// Columns are assumed NOT NULL (columnValues() never yields null).
//
// Hints: a clause may carry "every row I select has column C in values V" for the columns the
// store keeps postings of (columns.ts). That is a property of the clause's own text (`C = ?`,
// `C IN (…)`), so it holds for any clause built from it: `and` keeps both sides' hints, `or`
// keeps a column hinted on both sides (the union of the values), `not` keeps none. The result's
// hints are those of `pos`, a superset of the matches whether or not it is exact, so the rows
// the hints lead to, re-checked with `where`, are all the rows `where` selects.
import type { CompareOp, FilterAst, Literal } from "./ast.js";
import { COLUMNS } from "./columns.js";
import { compileLinearRegex } from "../regex/index.js";
import { fieldSpec } from "./fields.js";
import type { FieldSpec, SqlMapping } from "./fields.js";

/** Every row `where` selects holds one of `values` in `column` (a column with postings). */
export interface SqlHint {
  column: string;
  values: string[];
}

export interface SqlWhere {
  where: string;
  params: unknown[];
  exact: boolean;
  /** Absent when the clause says nothing of a posted column; see the top of this file. */
  hints?: SqlHint[];
}

interface Clause {
  text: string;
  params: unknown[];
  hints?: SqlHint[];
}

const POSTED = new Set(COLUMNS.filter((c) => c.lookup === "postings").map((c) => c.name));

interface Bounds {
  pos: Clause;
  neg: Clause;
  exact: boolean;
}

const TRUE: Clause = { text: "1", params: [] };
const FALSE: Clause = { text: "0", params: [] };

export function buildSql(ast: FilterAst): SqlWhere {
  const b = bounds(ast);
  const out: SqlWhere = { where: b.pos.text, params: b.pos.params, exact: b.exact };
  if (b.pos.hints) out.hints = b.pos.hints;
  return out;
}

function and(a: Clause, b: Clause): Clause {
  if (a === FALSE || b === FALSE) return FALSE;
  if (a === TRUE) return b;
  if (b === TRUE) return a;
  const c: Clause = { text: `(${a.text} AND ${b.text})`, params: [...a.params, ...b.params] };
  if (a.hints || b.hints) c.hints = [...(a.hints ?? []), ...(b.hints ?? [])];
  return c;
}

function or(a: Clause, b: Clause): Clause {
  if (a === TRUE || b === TRUE) return TRUE;
  if (a === FALSE) return b;
  if (b === FALSE) return a;
  const c: Clause = { text: `(${a.text} OR ${b.text})`, params: [...a.params, ...b.params] };
  // A row of `a or b` is a row of one side: in a column hinted on both, it holds a value of either.
  if (a.hints && b.hints) {
    const both: SqlHint[] = [];
    for (const ha of a.hints) {
      const hb = b.hints.find((h) => h.column === ha.column);
      if (hb) both.push({ column: ha.column, values: [...new Set([...ha.values, ...hb.values])] });
    }
    if (both.length > 0) c.hints = both;
  }
  return c;
}

function not(a: Clause): Clause {
  if (a === TRUE) return FALSE;
  if (a === FALSE) return TRUE;
  return { text: `NOT ${a.text}`, params: a.params };
}

/** `column IN (values)` (or `column = ?` for one value), with its hint when the column is posted. */
function inClause(column: string, values: unknown[]): Clause {
  const c = values.length === 1 ? clause(`${column} = ?`, values[0]) : clause(`${column} IN (${values.map(() => "?").join(", ")})`, ...values);
  // Only text values: SQLite would compare a number with a TEXT column after converting it.
  if (POSTED.has(column) && values.every((v) => typeof v === "string")) c.hints = [{ column, values: [...new Set(values as string[])] }];
  return c;
}

const clause = (text: string, ...params: unknown[]): Clause => ({ text: `(${text})`, params });
const exactBounds = (pos: Clause): Bounds => ({ pos, neg: not(pos), exact: true });
const unknown: Bounds = { pos: TRUE, neg: TRUE, exact: false };

function bounds(ast: FilterAst): Bounds {
  switch (ast.kind) {
    case "all":
      return exactBounds(TRUE);
    case "const":
      return exactBounds(ast.value ? TRUE : FALSE);
    case "not": {
      const b = bounds(ast.operand);
      return { pos: b.neg, neg: b.pos, exact: b.exact };
    }
    case "and": {
      const l = bounds(ast.left);
      const r = bounds(ast.right);
      return { pos: and(l.pos, r.pos), neg: or(l.neg, r.neg), exact: l.exact && r.exact };
    }
    case "or": {
      const l = bounds(ast.left);
      const r = bounds(ast.right);
      return { pos: or(l.pos, r.pos), neg: and(l.neg, r.neg), exact: l.exact && r.exact };
    }
    case "test":
      return leaf(spec(ast.field), undefined, undefined);
    case "compare": {
      if (ast.op === "!=") {
        const eq = leaf(spec(ast.field), "==", ast.value);
        return { pos: eq.neg, neg: eq.pos, exact: eq.exact };
      }
      return leaf(spec(ast.field), ast.op, ast.value);
    }
    case "in":
      return inBounds(spec(ast.field), ast.values);
  }
}

/**
 * `f in (a, b, ...)` is `f == a or f == b or ...`: one IN over a column that holds the value
 * (an indexed column's index serves it), else the disjunction of the `==` leaves.
 */
function inBounds(field: FieldSpec, values: Literal[]): Bounds {
  const m = field.sql;
  const plain = values.map((v) => (v.type === "regex" ? v.source : v.value));
  const list = plain.map(() => "?").join(", ");
  if (m.kind === "exact" && field.type !== "boolean") {
    return exactBounds(POSTED.has(m.column) ? inClause(m.column, plain) : clause(`${m.column} IN (${list})`, ...plain));
  }
  // `equal` says nothing about empty values (see leaf()), so a list with "" cannot be narrowed.
  if (m.kind === "equal" && !plain.includes("")) {
    const pos = POSTED.has(m.column) ? inClause(m.column, plain) : clause(`${m.column} IN (${list})`, ...plain);
    return { pos: m.guard ? or(pos, clause(m.guard)) : pos, neg: TRUE, exact: false };
  }
  let b = leaf(field, "==", values[0]!);
  for (const v of values.slice(1)) {
    const r = leaf(field, "==", v);
    b = { pos: or(b.pos, r.pos), neg: and(b.neg, r.neg), exact: b.exact && r.exact };
  }
  return b;
}

function spec(name: string): FieldSpec {
  const s = fieldSpec(name);
  if (!s) throw new Error(`unknown field '${name}' in a filter AST`);
  return s;
}

type Op = Exclude<CompareOp, "!=">;

/** A comparison (op and lit) or, with both undefined, a truthiness test. */
function leaf(field: FieldSpec, op: Op | undefined, lit: Literal | undefined): Bounds {
  const m: SqlMapping = field.sql;
  switch (m.kind) {
    case "none":
      return unknown;
    case "protocols": {
      const inSet = clause(`protocol IN (${m.names.map(() => "?").join(", ")})`, ...m.names);
      const wanted = lit === undefined || (lit.type === "boolean" && lit.value);
      return exactBounds(wanted ? inSet : not(inSet));
    }
    case "timestamp":
      return lit?.type === "number" && op ? timestampBounds(op, lit.value) : unknown;
    case "exact": {
      const c = columnTest(m.column, field.type, op, lit);
      return c ? exactBounds(c) : unknown;
    }
    case "equal":
    case "prefix":
    case "substring": {
      // These mappings only say something about non-empty values, so a test that an empty
      // value passes cannot be narrowed (the field may be empty while the column is not).
      const s = lit?.type === "string" ? lit.value : undefined;
      if (s === "" || (op === "matches" && lit?.type === "regex" && compileLinearRegex(lit.source, lit.flags).test(""))) return unknown;
      let pos: Clause | undefined;
      if (op === undefined) pos = clause(`${m.column} <> ''`);
      else if (s === undefined) pos = undefined;
      else if (m.kind === "equal") pos = columnTest(m.column, "string", op, lit);
      else if (m.kind === "prefix" && (op === "==" || op === "startsWith")) pos = clause(`${m.column} GLOB ?`, `${globEscape(s)}*`);
      else if (op === "==" || op === "contains" || op === "startsWith" || op === "endsWith") pos = clause(`instr(${m.column}, ?) > 0`, s);
      if (!pos) return unknown;
      if (m.kind === "equal" && m.guard) pos = or(pos, clause(m.guard));
      return { pos, neg: TRUE, exact: false };
    }
  }
}

/** The exact SQL of a test on a column holding the field's value, or undefined if SQL cannot say. */
function columnTest(column: string, type: FieldSpec["type"], op: Op | undefined, lit: Literal | undefined): Clause | undefined {
  if (op === undefined || lit === undefined) {
    return clause(type === "string" ? `${column} <> ''` : `${column} <> 0`);
  }
  if (lit.type === "regex") return undefined; // SQLite has no REGEXP unless the caller registers one
  if (type === "boolean") return clause(lit.value ? `${column} <> 0` : `${column} = 0`);
  const v = lit.value;
  switch (op) {
    case "==":
      return inClause(column, [v]);
    case "<":
    case "<=":
    case ">":
    case ">=":
      return clause(`${column} ${op} ?`, v);
    case "contains":
      return v === "" ? TRUE : clause(`instr(${column}, ?) > 0`, v);
    case "startsWith":
      if (v === "") return TRUE;
      // GLOB reads its pattern as a C string: a NUL would cut the prefix short (found by fuzzing).
      if ((v as string).includes("\0")) return clause(`substr(${column}, 1, ?) = ?`, [...(v as string)].length, v);
      // GLOB is case-sensitive like startsWith and can use the column's index for the prefix.
      return clause(`${column} GLOB ?`, `${globEscape(v as string)}*`);
    case "endsWith":
      // substr() and length() count characters (code points), not UTF-16 units.
      return v === "" ? TRUE : clause(`substr(${column}, ?) = ?`, -[...(v as string)].length, v);
    case "matches":
      return undefined;
  }
}

/** GLOB's special characters *, ? and [ made literal with a one-character class. */
export function globEscape(s: string): string {
  return s.replace(/[*?[]/g, (c) => `[${c}]`);
}

// `timestamp` is timestampNs / 1e6 (ms, a double) and the column ts is floor(timestampNs / 1000)
// (µs). Rounding of both differs by less than a microsecond at today's epoch, so a bound widened
// by 2 µs on each side keeps every match; the predicate then decides exactly.
function timestampBounds(op: Op, ms: number): Bounds {
  const lo = clause("ts >= ?", Math.floor(ms * 1000) - 2);
  const hi = clause("ts <= ?", Math.ceil(ms * 1000) + 2);
  switch (op) {
    case ">":
    case ">=":
      return { pos: lo, neg: hi, exact: false };
    case "<":
    case "<=":
      return { pos: hi, neg: lo, exact: false };
    case "==":
      return { pos: and(lo, hi), neg: TRUE, exact: false };
    default:
      return unknown;
  }
}
