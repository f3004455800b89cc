// Parsers for flag values. Each throws a UsageError that names the flag and shows the
// accepted form, so `tapline tap` fails before it talks to the cluster.
import { UsageError } from "./errors.js";

const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;
const SUFFIX: Record<string, number> = {
  "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50,
};

/** A Kubernetes resource quantity of bytes (`500Mi`, `2Gi`, `1000000`); returns bytes. */
export function parseByteQuantity(flag: string, value: string): number {
  const m = QUANTITY.exec(value.trim());
  if (!m) throw new UsageError(`invalid ${flag} '${value}': expected a size such as 500Mi, 2Gi or 1000000`);
  const bytes = Math.floor(Number(m[1]) * SUFFIX[m[2] ?? ""]);
  if (bytes < 1) throw new UsageError(`invalid ${flag} '${value}': must be at least 1 byte`);
  return bytes;
}

export function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new UsageError(`invalid ${flag} '${value}': expected a TCP port 1..65535`);
  return n;
}

/** `-n a,b -n c` → [a, b, c]; each must be a DNS-1123 label (a namespace name). */
export function parseNamespaces(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const ns of v.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (!isDnsLabel(ns)) throw new UsageError(`invalid namespace '${ns}': expected a DNS-1123 label (lower case letters, digits, '-')`);
      if (!out.includes(ns)) out.push(ns);
    }
  }
  return out;
}

export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** `k=v` (repeatable or comma list) → map; used by --node-selector. */
export function parseKeyValues(flag: string, values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values.flatMap((x) => x.split(","))) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`invalid ${flag} '${v}': expected key=value`);
    out[v.slice(0, i).trim()] = v.slice(i + 1).trim();
  }
  return out;
}

export interface Toleration {
  key?: string;
  operator: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}
const EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/**
 * kubectl-taint-like syntax: `key=value:Effect`, `key:Effect`, `key`, or `*` (tolerate
 * every taint), comma separated or repeated.
 */
export function parseTolerations(values: string[]): Toleration[] {
  const out: Toleration[] = [];
  for (const raw of values.flatMap((x) => x.split(",")).map((s) => s.trim()).filter(Boolean)) {
    if (raw === "*") {
      out.push({ operator: "Exists" });
      continue;
    }
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)(?:=([^:]*))?(?::([A-Za-z]+))?$/.exec(raw);
    if (!m || (m[3] !== undefined && !EFFECTS.includes(m[3]))) {
      throw new UsageError(`invalid --tolerations '${raw}': expected key[=value][:${EFFECTS.join("|")}] or '*'`);
    }
    const t: Toleration = m[2] !== undefined ? { key: m[1], operator: "Equal", value: m[2] } : { key: m[1], operator: "Exists" };
    if (m[3]) t.effect = m[3] as Toleration["effect"];
    out.push(t);
  }
  return out;
}

/**
 * Compiles the pod regex; on failure names the position of the problem. JavaScript's
 * RegExp errors carry no offset, so a small scan finds the usual culprits first.
 */
export function compilePodRegex(source: string): RegExp {
  const problem = scanRegex(source);
  let compiled: RegExp | undefined;
  let engineMessage = "";
  try {
    compiled = new RegExp(source);
  } catch (err) {
    engineMessage = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "");
  }
  if (compiled && !problem) return compiled;
  const pos = problem?.pos ?? source.length;
  const why = problem?.why ?? engineMessage;
  throw new UsageError(`invalid pod regex at position ${pos + 1}: ${why}\n  ${source}\n  ${" ".repeat(pos)}^`);
}

function scanRegex(s: string): { pos: number; why: string } | undefined {
  const open: number[] = [];
  let atomBefore = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      if (i + 1 >= s.length) return { pos: i, why: "trailing backslash" };
      i++;
      atomBefore = true;
    } else if (c === "[") {
      let j = i + 1;
      if (s[j] === "^") j++;
      if (s[j] === "]") j++;
      for (; j < s.length && s[j] !== "]"; j++) if (s[j] === "\\") j++;
      if (j >= s.length) return { pos: i, why: "unterminated character class '['" };
      i = j;
      atomBefore = true;
    } else if (c === "(") {
      open.push(i);
      atomBefore = false;
      if (s[i + 1] === "?") {
        // (?:  (?=  (?!  (?<=  (?<!  (?<name>
        if (s[i + 2] === "<" && s[i + 3] !== "=" && s[i + 3] !== "!") {
          const end = s.indexOf(">", i);
          if (end < 0) return { pos: i, why: "unterminated group name" };
          i = end;
        } else i += s[i + 2] === "<" ? 3 : 2;
      }
    } else if (c === ")") {
      if (open.length === 0) return { pos: i, why: "unmatched ')'" };
      open.pop();
      atomBefore = true;
    } else if (c === "|") {
      atomBefore = false;
    } else if (c === "*" || c === "+" || c === "?") {
      if (!atomBefore) return { pos: i, why: `nothing to repeat before '${c}'` };
      if (s[i + 1] === "?") i++;
      atomBefore = false;
    } else if (c === "{" && /^\{\d+(,\d*)?\}/.test(s.slice(i))) {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(s.slice(i))!;
      if (!atomBefore) return { pos: i, why: "nothing to repeat before '{'" };
      if (m[2] && Number(m[2]) < Number(m[1])) return { pos: i, why: `numbers out of order in ${m[0]}` };
      i += m[0].length - 1;
      atomBefore = false;
    } else {
      atomBefore = !(c === "^" || c === "$") || atomBefore;
    }
  }
  if (open.length) return { pos: open[open.length - 1], why: "unterminated group '('" };
  return undefined;
}
