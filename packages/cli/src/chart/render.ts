// A renderer for the Go-template subset that src/chart/generate.ts emits, so tests can
// compare the chart's output with the CLI's objects where `helm template` is not
// installed. Supported: `{{ pipeline }}` with `{{-`/`-}}` trimming, `{{- if pipeline }}`
// ... `{{- end }}`, `.Values.a.b`, `.Release.Namespace`, string/number literals, and the
// functions quote, toYaml, toJson, nindent, join, b64enc, required. Anything else throws.
import { stringify } from "yaml";

export interface RenderContext {
  Values: unknown;
  Release: { Namespace: string; Name: string };
}

type Fn = (...args: unknown[]) => unknown;

const FUNCS: Record<string, Fn> = {
  quote: (v) => JSON.stringify(v === undefined || v === null ? "" : String(v)),
  toYaml: (v) => stringify(v, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd(),
  toJson: (v) => JSON.stringify(v),
  nindent: (n, s) => "\n" + String(s).split("\n").map((l) => " ".repeat(Number(n)) + l).join("\n"),
  join: (sep, list) => (list as unknown[]).map(String).join(String(sep)),
  b64enc: (v) => Buffer.from(String(v), "utf8").toString("base64"),
  required: (msg, v) => {
    if (v === undefined || v === null || v === "") throw new Error(`execution error: ${String(msg)}`);
    return v;
  },
};

function lookup(ctx: RenderContext, path: string): unknown {
  let node: unknown = ctx;
  for (const k of path.slice(1).split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[k];
  }
  return node;
}

function tokenize(src: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|\||[^\s|"]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(src))) {
    out.push(m[1]);
    end = re.lastIndex;
  }
  if (src.slice(end).trim()) throw new Error(`cannot parse template expression: ${src}`);
  return out;
}

function operand(ctx: RenderContext, tok: string): unknown {
  if (tok.startsWith('"')) return JSON.parse(tok);
  if (/^-?\d+$/.test(tok)) return Number(tok);
  if (tok.startsWith(".")) return lookup(ctx, tok);
  throw new Error(`unsupported operand ${tok}`);
}

export function evalPipeline(ctx: RenderContext, src: string): unknown {
  const commands: string[][] = [[]];
  for (const t of tokenize(src)) {
    if (t === "|") commands.push([]);
    else commands[commands.length - 1].push(t);
  }
  let value: unknown;
  commands.forEach((cmd, i) => {
    const [head, ...rest] = cmd;
    if (head === undefined) throw new Error(`empty command in ${src}`);
    const args = rest.map((t) => operand(ctx, t));
    if (i > 0) args.push(value);
    if (FUNCS[head]) value = FUNCS[head](...args);
    else if (args.length === 0) value = operand(ctx, head);
    else throw new Error(`unsupported function ${head}`);
  });
  return value;
}

function print(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** Renders one template file. */
export function renderTemplate(template: string, ctx: RenderContext): string {
  // Split into text and actions, applying the trim markers to the neighbouring text.
  const parts: Array<{ text: string } | { action: string }> = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  let m: RegExpExecArray | null;
  while ((m = re.exec(template))) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (m[1] === "-") text = text.replace(/\s+$/, "");
    parts.push({ text }, { action: m[2] });
    trimNext = m[3] === "-";
    last = re.lastIndex;
  }
  let tail = template.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, "");
  parts.push({ text: tail });

  const out: string[] = [];
  const emitting: boolean[] = [];
  const on = () => emitting.every(Boolean);
  for (const p of parts) {
    if ("text" in p) {
      if (on()) out.push(p.text);
      continue;
    }
    const a = p.action;
    if (a.startsWith("/*")) continue;
    if (a.startsWith("if ")) emitting.push(on() ? truthy(evalPipeline(ctx, a.slice(3))) : false);
    else if (a === "end") {
      if (!emitting.length) throw new Error("{{ end }} without {{ if }}");
      emitting.pop();
    } else if (on()) out.push(print(evalPipeline(ctx, a)));
  }
  if (emitting.length) throw new Error("unterminated {{ if }}");
  return out.join("");
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}
