// A renderer for the Go-template subset that src/chart/generate.ts emits, so tests can
// compare the chart's output with the CLI's objects where `helm template` is not
// installed. Supported: `{{ pipeline }}` with `{{-`/`-}}` trimming, `{{- if pipeline }}`
// ... `{{- end }}`, `{{- range pipeline }}` ... `{{- end }}` with `.`, `.Values.a.b`, `.Release.Namespace`, string/number literals, and the
// functions quote, toYaml, toJson, nindent, join, b64enc, not, or, required. Anything else throws.
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
  not: (v) => !truthy(v),
  // Go's `or`: the first non-empty argument, else the last.
  or: (...args) => args.find(truthy) ?? args[args.length - 1],
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

function operand(ctx: RenderContext, tok: string, dot: unknown): unknown {
  if (tok.startsWith('"')) return JSON.parse(tok);
  if (/^-?\d+$/.test(tok)) return Number(tok);
  if (tok === ".") return dot;
  if (tok.startsWith(".")) return lookup(ctx, tok);
  throw new Error(`unsupported operand ${tok}`);
}

export function evalPipeline(ctx: RenderContext, src: string, dot: unknown = ctx): unknown {
  const commands: string[][] = [[]];
  for (const t of tokenize(src)) {
    if (t === "|") commands.push([]);
    else commands[commands.length - 1].push(t);
  }
  let value: unknown;
  commands.forEach((cmd, i) => {
    const [head, ...rest] = cmd;
    if (head === undefined) throw new Error(`empty command in ${src}`);
    const args = rest.map((t) => operand(ctx, t, dot));
    if (i > 0) args.push(value);
    if (FUNCS[head]) value = FUNCS[head](...args);
    else if (args.length === 0) value = operand(ctx, head, dot);
    else throw new Error(`unsupported function ${head}`);
  });
  return value;
}

function print(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

type Node = { text: string } | { action: string } | { block: "if" | "range"; pipeline: string; body: Node[] };

function parse(template: string): Node[] {
  // Split into text and actions, applying the trim markers to the neighbouring text.
  const flat: Array<{ text: string } | { action: string }> = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  let m: RegExpExecArray | null;
  while ((m = re.exec(template))) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (m[1] === "-") text = text.replace(/\s+$/, "");
    flat.push({ text }, { action: m[2] });
    trimNext = m[3] === "-";
    last = re.lastIndex;
  }
  let tail = template.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, "");
  flat.push({ text: tail });

  const root: Node[] = [];
  const stack: Node[][] = [root];
  for (const p of flat) {
    const top = stack[stack.length - 1];
    if ("text" in p) top.push(p);
    else if (p.action.startsWith("/*")) continue;
    else if (/^(if|range) /.test(p.action)) {
      const [kw, ...rest] = p.action.split(" ");
      const node = { block: kw as "if" | "range", pipeline: rest.join(" "), body: [] as Node[] };
      top.push(node);
      stack.push(node.body);
    } else if (p.action === "end") {
      if (stack.length === 1) throw new Error("{{ end }} without {{ if }} or {{ range }}");
      stack.pop();
    } else top.push(p);
  }
  if (stack.length !== 1) throw new Error("unterminated {{ if }} or {{ range }}");
  return root;
}

function renderNodes(nodes: Node[], ctx: RenderContext, dot: unknown, out: string[]): void {
  for (const n of nodes) {
    if ("text" in n) out.push(n.text);
    else if ("action" in n) out.push(print(evalPipeline(ctx, n.action, dot)));
    else if (n.block === "if") {
      if (truthy(evalPipeline(ctx, n.pipeline, dot))) renderNodes(n.body, ctx, dot, out);
    } else {
      const list = evalPipeline(ctx, n.pipeline, dot);
      for (const item of Array.isArray(list) ? list : []) renderNodes(n.body, ctx, item, out);
    }
  }
}

/** Renders one template file. */
export function renderTemplate(template: string, ctx: RenderContext): string {
  const out: string[] = [];
  renderNodes(parse(template), ctx, ctx, out);
  return out.join("");
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return Boolean(v);
}
