/**
 * A filter that cannot be parsed or type-checked. `position` is the 0-based offset of the
 * offending character in the filter text and `end` the offset just past the offending
 * token, so a UI can underline it; `message` ends with `at <position>` (plus a hint).
 */
export class FilterSyntaxError extends Error {
  readonly position: number;
  readonly end: number;

  constructor(reason: string, position: number, end = position + 1, hint?: string) {
    super(`${reason} at ${position}${hint ? ` (${hint})` : ""}`);
    this.name = "FilterSyntaxError";
    this.position = position;
    this.end = Math.max(end, position);
  }
}
