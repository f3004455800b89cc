// Helpers that let one builder produce both the CLI's concrete objects and the Helm
// chart's templates. In chart generation every setting is a placeholder string
// `⟦path⟧` (see src/chart/generate.ts); for the CLI these helpers are plain functions.
// The builder may pass settings through, concatenate them into strings, or use these
// helpers; it must not branch or compute on them any other way.

const OPEN = "⟦";
const CLOSE = "⟧";

export function isPlaceholder(v: unknown): v is string {
  return typeof v === "string" && v.startsWith(OPEN) && v.endsWith(CLOSE) && v.indexOf(OPEN, 1) < 0;
}

export function placeholder(path: string, pipe?: string): string {
  return `${OPEN}${path}${pipe ? `|${pipe}` : ""}${CLOSE}`;
}

function withPipe(v: unknown, pipe: string): string {
  return (v as string).slice(0, -1) + `|${pipe}${CLOSE}`;
}

/** A setting as an env/ConfigMap string. */
export function str(v: string | number | boolean): string {
  return isPlaceholder(v) ? withPipe(v, "quote") : String(v);
}

export function joinComma(v: string[]): string {
  return isPlaceholder(v) ? withPipe(v, 'join ","|quote') : v.join(",");
}

export function json(v: unknown): string {
  return isPlaceholder(v) ? withPipe(v, "toJson|quote") : JSON.stringify(v);
}

export function base64(v: string): string {
  return isPlaceholder(v) ? withPipe(v, "b64enc|quote") : Buffer.from(v, "utf8").toString("base64");
}

/**
 * True when any flag is (chart: `a | or @b ...`, Go template's `or`; `@path` names another
 * setting inside a pipe). Flags are all settings or all plain values.
 */
export function anyOf(...flags: boolean[]): boolean {
  if (!flags.some(isPlaceholder)) return flags.some(Boolean);
  if (!flags.every(isPlaceholder)) throw new Error("anyOf: mixed settings and plain values");
  const [first, ...rest] = flags as unknown as string[];
  return (rest.length ? withPipe(first, `or ${rest.map((f) => `@${f.slice(1, -1)}`).join(" ")}`) : first) as unknown as boolean;
}

/** List items present only when `flag` is true (chart: `{{- if flag }}` around each). */
export function when<T extends string>(flag: boolean, items: readonly T[]): T[] {
  if (isPlaceholder(flag)) return items.map((i) => `${OPEN}if ${(flag as string).slice(1, -1)}${CLOSE}${i}` as T);
  return flag ? [...items] : [];
}

/** List items present only when `flag` is false (chart: `{{- if not flag }}`). */
export function unless<T extends string>(flag: boolean, items: readonly T[]): T[] {
  // `if not a | or @b` would negate only `a`: no pipes here.
  if (isPlaceholder(flag) && (flag as string).includes("|")) throw new Error("unless: a plain setting only");
  if (isPlaceholder(flag)) return items.map((i) => `${OPEN}if not ${(flag as string).slice(1, -1)}${CLOSE}${i}` as T);
  return flag ? [] : [...items];
}

/** `--flag v1 --flag v2 ...` for each list value (chart: a `range` over the list). */
export function eachArg(flag: string, list: string[]): string[] {
  if (isPlaceholder(list)) return [`${OPEN}range ${(list as unknown as string).slice(1, -1)}${CLOSE}${flag}`];
  return list.flatMap((v) => [flag, v]);
}

/** Replaces each leaf (and each list or free map) of `tree` with its placeholder. */
export function symbolic<T>(tree: T, isWhole: (path: string) => boolean, prefix = ""): T {
  if (typeof tree !== "object" || tree === null || Array.isArray(tree) || (prefix && isWhole(prefix))) {
    return placeholder(prefix) as T;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tree)) out[k] = symbolic(v, isWhole, prefix ? `${prefix}.${k}` : k);
  return out as T;
}
