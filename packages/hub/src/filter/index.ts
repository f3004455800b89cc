export { parseFilter } from "./parser.js";
export { compileFilter } from "./compile.js";
export type { CompiledFilter } from "./compile.js";
export type { FilterAst, CompareOp, Literal } from "./ast.js";
export type { SqlWhere } from "./sql.js";
export { FilterSyntaxError } from "./errors.js";
export { FIELDS } from "./fields.js";
export type { FieldInfo, FieldType } from "./fields.js";
export { EXAMPLES } from "./examples.js";
