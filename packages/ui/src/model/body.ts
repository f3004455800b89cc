// How a captured body is shown: pretty JSON, indented XML, form fields, text, or hex.
export type BodyView =
  | { kind: "empty" }
  | { kind: "json"; text: string }
  | { kind: "xml"; text: string }
  | { kind: "form"; fields: [string, string][] }
  | { kind: "text"; text: string }
  | { kind: "hex"; text: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

export function viewBody(data: Uint8Array | null | undefined, contentType = ""): BodyView {
  if (!data || data.length === 0) return { kind: "empty" };
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return { kind: "hex", text: hexDump(data) };
  }
  if (/[\x00-\x08\x0e-\x1f]/.test(text)) return { kind: "hex", text: hexDump(data) };
  const ct = contentType.toLowerCase();
  const trimmed = text.trimStart();
  if (ct.includes("json") || trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return { kind: "json", text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      /* not JSON after all (or truncated): show as text */
    }
  }
  if (ct.includes("x-www-form-urlencoded")) {
    return { kind: "form", fields: [...new URLSearchParams(text)] };
  }
  if (ct.includes("xml") || trimmed.startsWith("<?xml")) return { kind: "xml", text: indentXml(text) };
  return { kind: "text", text };
}

export function hexDump(data: Uint8Array, max = 4096): string {
  const lines: string[] = [];
  const n = Math.min(data.length, max);
  for (let off = 0; off < n; off += 16) {
    const slice = data.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(slice, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(slice, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${off.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (data.length > max) lines.push(`… ${data.length - max} more bytes`);
  return lines.join("\n");
}

function indentXml(xml: string): string {
  const parts = xml.replace(/>\s*</g, "><").split(/(?=<)|(?<=>)/);
  let depth = 0;
  const out: string[] = [];
  for (const p of parts) {
    if (!p.trim()) continue;
    if (p.startsWith("</")) depth = Math.max(0, depth - 1);
    out.push("  ".repeat(depth) + p);
    if (p.startsWith("<") && !p.startsWith("</") && !p.endsWith("/>") && !p.startsWith("<?") && !p.startsWith("<!")) depth++;
  }
  return out.join("\n");
}
