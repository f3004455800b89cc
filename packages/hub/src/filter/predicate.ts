// Filter AST -> JavaScript predicate over EntryInit, built once as nested closures
// (no per-entry parsing or dispatch on the AST). This is the reference semantics:
// the SQL path (sql.ts) must select the same entries or, when inexact, a superset.
import type { EntryInit } from "@tapline/protocol";
import type { CompareOp, FilterAst, Literal } from "./ast.js";
import { compileLinearRegex } from "../regex/index.js";
import { fieldSpec } from "./fields.js";
import type { FieldSpec, FieldValue } from "./fields.js";

export type Predicate = (entry: EntryInit) => boolean;

/**
 * `matches` reads at most this many UTF-16 units of a value (bodies are the long ones). The
 * regex engine is linear (regex/linear.ts), so this bounds one test to a few milliseconds even
 * for the worst patterns measured (`(a|aa)+$`: about 3.5 ms per 16 KiB); `contains`,
 * `startsWith` and `endsWith` read the whole value.
 */
export const MATCH_SUBJECT_LIMIT = 16 * 1024;

const always: Predicate = () => true;
const never: Predicate = () => false;

export function buildPredicate(ast: FilterAst): Predicate {
  switch (ast.kind) {
    case "all":
      return always;
    case "const":
      return ast.value ? always : never;
    case "and": {
      const l = buildPredicate(ast.left);
      const r = buildPredicate(ast.right);
      return (e) => l(e) && r(e);
    }
    case "or": {
      const l = buildPredicate(ast.left);
      const r = buildPredicate(ast.right);
      return (e) => l(e) || r(e);
    }
    case "not": {
      const inner = buildPredicate(ast.operand);
      return (e) => !inner(e);
    }
    case "test":
      return fieldPredicate(spec(ast.field), ast.key ?? "", truthy);
    case "compare": {
      // `a != b` is `not (a == b)`: for list fields it means "no value equals b".
      if (ast.op === "!=") {
        const eq = fieldPredicate(spec(ast.field), ast.key ?? "", valueTest("==", ast.value));
        return (e) => !eq(e);
      }
      return fieldPredicate(spec(ast.field), ast.key ?? "", valueTest(ast.op, ast.value));
    }
    case "in": {
      // The parser made every value the field's type: a Set lookup is `==` against each.
      const set = new Set<FieldValue>(ast.values.map((v) => (v.type === "regex" ? v.source : v.value)));
      return fieldPredicate(spec(ast.field), ast.key ?? "", (v) => set.has(v));
    }
  }
}

function spec(name: string): FieldSpec {
  const s = fieldSpec(name);
  if (!s) throw new Error(`unknown field '${name}' in a filter AST`);
  return s;
}

function truthy(v: FieldValue): boolean {
  return v !== "" && v !== 0 && v !== false;
}

function fieldPredicate(field: FieldSpec, key: string, test: (v: FieldValue) => boolean): Predicate {
  if (field.multi) return (e) => field.any(e, key, test);
  const get = field.get;
  return (e) => test(get(e));
}

/** The test a field value must pass; `!=` is handled by the caller as a negated `==`. */
export function valueTest(op: Exclude<CompareOp, "!=">, lit: Literal): (v: FieldValue) => boolean {
  if (lit.type === "regex") {
    const re = compileLinearRegex(lit.source, lit.flags);
    return (v) => re.test((v as string).length > MATCH_SUBJECT_LIMIT ? (v as string).slice(0, MATCH_SUBJECT_LIMIT) : (v as string));
  }
  const x = lit.value;
  switch (op) {
    case "==":
      return (v) => v === x;
    case "<":
      return (v) => (v as number) < (x as number);
    case "<=":
      return (v) => (v as number) <= (x as number);
    case ">":
      return (v) => (v as number) > (x as number);
    case ">=":
      return (v) => (v as number) >= (x as number);
    case "contains":
      return (v) => (v as string).includes(x as string);
    case "startsWith":
      return (v) => (v as string).startsWith(x as string);
    case "endsWith":
      return (v) => (v as string).endsWith(x as string);
    case "matches":
      // checkTypes turns every `matches` operand into a regex literal.
      throw new Error("matches needs a regex literal");
  }
}
