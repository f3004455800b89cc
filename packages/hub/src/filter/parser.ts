// Recursive-descent parser of the filter language, with the type checks that need positions.
//   filter     := ε | or
//   or         := and (("or" | "||") and)*
//   and        := unary (("and" | "&&") unary)*
//   unary      := ("not" | "!") unary | primary
//   primary    := "(" or ")" | "true" | "false" | field ("[" string "]")? (op value | "not"? "in" list)?
//   op         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "startsWith" | "endsWith" | "matches"
//   list       := "(" value ("," value)* ")"
//   value      := string | number | "true" | "false" | regex
import type { CompareOp, FilterAst, Literal } from "./ast.js";
import { RegexError, compileLinearRegex } from "../regex/index.js";
import { FilterSyntaxError } from "./errors.js";
import { FIELD_SPECS, fieldSpec } from "./fields.js";
import type { FieldSpec } from "./fields.js";
import { tokenize } from "./lexer.js";
import type { Token } from "./lexer.js";

const orderingOps = new Set<CompareOp>(["<", "<=", ">", ">="]);
const stringOps = new Set<CompareOp>(["contains", "startsWith", "endsWith", "matches"]);
const keywords = ["and", "or", "not", "in", "contains", "startsWith", "endsWith", "matches", "true", "false"];
/** Values of one `in` list at most: each becomes one SQL parameter (SQLite allows 32766 per statement). */
export const MAX_IN_VALUES = 1000;
const allowedRegexFlags = /^[imsu]*$/; // g and y make RegExp.test stateful

export function parseFilter(text: string): FilterAst {
  if (typeof text !== "string") throw new TypeError("filter must be a string");
  const tokens = tokenize(text);
  if (tokens[0]!.kind === "eof") return { kind: "all" };
  const p = new Parser(tokens);
  const ast = p.parseOr();
  const t = p.peek();
  if (t.kind === ")") throw new FilterSyntaxError("unmatched ')'", t.pos, t.end);
  if (t.kind !== "eof") throw unexpected(t);
  return ast;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== "eof") this.i++;
    return t;
  }

  parseOr(): FilterAst {
    let left = this.parseAnd();
    while (this.peek().kind === "or") {
      const op = this.next();
      left = { kind: "or", left, right: this.parseAnd(op), pos: op.pos };
    }
    return left;
  }

  private parseAnd(after?: Token): FilterAst {
    let left = this.parseUnary(after);
    while (this.peek().kind === "and") {
      const op = this.next();
      left = { kind: "and", left, right: this.parseUnary(op), pos: op.pos };
    }
    return left;
  }

  private parseUnary(after?: Token): FilterAst {
    const t = this.peek();
    if (t.kind === "not") {
      this.next();
      return { kind: "not", operand: this.parseUnary(t), pos: t.pos };
    }
    return this.parsePrimary(after);
  }

  private parsePrimary(after?: Token): FilterAst {
    const t = this.next();
    switch (t.kind) {
      case "(": {
        const inner = this.parseOr();
        const close = this.peek();
        if (close.kind !== ")") {
          if (close.kind === "eof") throw new FilterSyntaxError("expected ')'", close.pos, close.end, `to close '(' at ${t.pos}`);
          throw unexpected(close);
        }
        this.next();
        return inner;
      }
      case "true":
      case "false":
        return { kind: "const", value: t.kind === "true", pos: t.pos };
      case "ident":
        return this.parseField(t);
      case "eof":
        throw new FilterSyntaxError(after ? `expected an expression after '${after.text}'` : "expected an expression", t.pos, t.end);
      default:
        throw unexpected(t);
    }
  }

  private parseField(name: Token): FilterAst {
    const spec = fieldSpec(name.text);
    if (!spec) throw new FilterSyntaxError(`unknown field '${name.text}'`, name.pos, name.end, suggest(name.text));
    let key: string | undefined;
    if (this.peek().kind === "[") {
      const open = this.next();
      if (!spec.keyed) throw new FilterSyntaxError(`field '${spec.name}' takes no [name]`, open.pos, open.end);
      const k = this.next();
      if (k.kind !== "string") throw new FilterSyntaxError("expected a quoted name after '['", k.pos, k.end, `e.g. ${spec.name}["content-type"]`);
      const close = this.next();
      if (close.kind !== "]") throw new FilterSyntaxError("expected ']'", close.pos, close.end);
      key = (k.value as string).toLowerCase();
    } else if (spec.keyed) {
      throw new FilterSyntaxError(`field '${spec.name}' needs a name in brackets`, name.end, name.end + 1, `e.g. ${spec.name}["content-type"]`);
    }
    const opTok = this.peek();
    if (opTok.kind === "in" || (opTok.text === "not" && this.tokens[this.i + 1]?.kind === "in")) {
      const negated = opTok.kind === "not";
      if (negated) this.next();
      const node: FilterAst = { kind: "in", field: spec.name, values: this.parseList(spec, this.next()), pos: name.pos };
      if (key !== undefined) node.key = key;
      return negated ? { kind: "not", operand: node, pos: opTok.pos } : node;
    }
    if (opTok.kind !== "op") {
      return key === undefined ? { kind: "test", field: spec.name, pos: name.pos } : { kind: "test", field: spec.name, key, pos: name.pos };
    }
    this.next();
    const op = opTok.text as CompareOp;
    const valueTok = this.next();
    const value = literalOf(valueTok);
    if (!value) throw new FilterSyntaxError(`expected a value after '${op}'`, valueTok.pos, valueTok.end);
    const checked = checkTypes(spec, op, opTok, value, valueTok);
    const node: FilterAst = { kind: "compare", field: spec.name, op, value: checked, pos: name.pos };
    if (key !== undefined) node.key = key;
    return node;
  }

  /** `"(" value ("," value)* ")"` after `in`; every value type-checked as the operand of `==`. */
  private parseList(spec: FieldSpec, inTok: Token): Literal[] {
    const open = this.next();
    if (open.kind !== "(") throw new FilterSyntaxError("expected '(' after 'in'", open.pos, open.end, `e.g. ${spec.name} in (${listExample(spec)})`);
    if (this.peek().kind === ")") throw new FilterSyntaxError("empty list after 'in'", open.pos, this.peek().end, "give at least one value");
    const values: Literal[] = [];
    let after = open;
    for (;;) {
      const valueTok = this.next();
      const value = literalOf(valueTok);
      if (!value) throw new FilterSyntaxError(`expected a value after '${after.text}'`, valueTok.pos, valueTok.end);
      values.push(checkTypes(spec, "==", inTok, value, valueTok));
      if (values.length > MAX_IN_VALUES) throw new FilterSyntaxError(`more than ${MAX_IN_VALUES} values after 'in'`, valueTok.pos, valueTok.end);
      after = this.next();
      if (after.kind === ")") return values;
      if (after.kind === "eof") throw new FilterSyntaxError("expected ')'", after.pos, after.end, `to close '(' at ${open.pos}`);
      if (after.kind !== ",") throw new FilterSyntaxError(`unexpected token '${after.text}'`, after.pos, after.end, "expected ',' or ')'");
    }
  }
}

function listExample(spec: FieldSpec): string {
  return spec.type === "number" ? "500, 503" : spec.type === "boolean" ? "true" : '"a", "b"';
}

function literalOf(t: Token): Literal | undefined {
  switch (t.kind) {
    case "string":
      return { type: "string", value: t.value as string };
    case "number":
      return { type: "number", value: t.value as number };
    case "true":
    case "false":
      return { type: "boolean", value: t.kind === "true" };
    case "regex":
      return { type: "regex", source: t.value as string, flags: t.flags ?? "" };
    default:
      return undefined;
  }
}

const article = (type: string) => (type === "string" ? "a string" : type === "number" ? "a number" : type === "boolean" ? "a boolean" : "a regex");

/** Returns the literal to use (a date string becomes milliseconds for `timestamp`). */
function checkTypes(spec: FieldSpec, op: CompareOp, opTok: Token, value: Literal, valueTok: Token): Literal {
  const fail = (reason: string, t: Token, hint?: string) => new FilterSyntaxError(reason, t.pos, t.end, hint);
  if (orderingOps.has(op) && spec.type !== "number") {
    throw fail(`operator '${op}' needs a number field; '${spec.name}' is a ${spec.type}`, opTok);
  }
  if (stringOps.has(op) && spec.type !== "string") {
    throw fail(`operator '${op}' needs a string field; '${spec.name}' is a ${spec.type}`, opTok);
  }
  if (op === "matches") {
    if (value.type !== "string" && value.type !== "regex") throw fail(`expected a regex or a string after 'matches'`, valueTok);
    const source = value.type === "regex" ? value.source : value.value;
    const flags = value.type === "regex" ? value.flags : "";
    if (!allowedRegexFlags.test(flags)) throw fail(`unsupported regex flags '${flags}'`, valueTok, "use i, m, s or u");
    try {
      compileLinearRegex(source, flags);
    } catch (err) {
      if (!(err instanceof RegexError)) throw err;
      // Inside a /regex/ literal the offset maps onto the filter text; a string has escapes.
      const at = valueTok.kind === "regex" && err.offset !== undefined ? valueTok.pos + 1 + err.offset : valueTok.pos;
      throw new FilterSyntaxError(`invalid regex: ${err.message}`, at, at === valueTok.pos ? valueTok.end : at + 1);
    }
    return { type: "regex", source, flags };
  }
  if (value.type === "regex") throw fail("a /regex/ goes only after 'matches'", valueTok);
  if (spec.name === "timestamp" && value.type === "string") {
    const ms = Date.parse(value.value);
    if (Number.isNaN(ms)) throw fail(`invalid date '${value.value}'`, valueTok, 'e.g. "2026-11-23T10:00:00Z"');
    return { type: "number", value: ms };
  }
  if (value.type !== spec.type) {
    throw fail(`cannot compare ${spec.type} field '${spec.name}' with ${article(value.type)}`, valueTok);
  }
  return value;
}

function unexpected(t: Token): FilterSyntaxError {
  if (t.kind === "eof") return new FilterSyntaxError("unexpected end of filter", t.pos, t.end);
  const hint = t.kind === "ident" ? suggestFrom(t.text, keywords) : undefined;
  return new FilterSyntaxError(`unexpected token '${t.text}'`, t.pos, t.end, hint);
}

function suggest(name: string): string | undefined {
  return suggestFrom(name, FIELD_SPECS.map((f) => f.name));
}

function suggestFrom(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return best !== undefined && bestDistance <= limit ? `did you mean '${best}'?` : undefined;
}

// Levenshtein distance with two rolling rows; names are short.
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
