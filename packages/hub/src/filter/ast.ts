// The typed syntax tree of a filter (README.md: grammar). Positions are offsets into the text.

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "startsWith" | "endsWith" | "matches";

export type Literal =
  | { type: "string"; value: string }
  | { type: "number"; value: number }
  | { type: "boolean"; value: boolean }
  | { type: "regex"; source: string; flags: string };

export type FilterAst =
  /** The empty filter: every entry. */
  | { kind: "all" }
  | { kind: "const"; value: boolean; pos: number }
  | { kind: "and" | "or"; left: FilterAst; right: FilterAst; pos: number }
  | { kind: "not"; operand: FilterAst; pos: number }
  /** A bare field (or protocol name): true when the value is truthy (non-empty, non-zero, true). */
  | { kind: "test"; field: string; key?: string; pos: number }
  | { kind: "compare"; field: string; key?: string; op: CompareOp; value: Literal; pos: number }
  /** `field in (v1, v2, ...)`: any value equals one of `values` (all of the field's type, at least one). `not in` is `not` over it. */
  | { kind: "in"; field: string; key?: string; values: Literal[]; pos: number };
