export { compileLinearRegex, RegexError, MAX_PROGRAM_SIZE } from "./linear.js";
export type { LinearRegex } from "./linear.js";
