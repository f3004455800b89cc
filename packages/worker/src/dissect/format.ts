// Output of `tapline dissect`: JSON lines (the protobuf JSON mapping of each Entry), a table,
// or nothing (counting only: dissection cost apart from output cost).
import type { EntryInit } from "@tapline/protocol";
import { summarizeEntry } from "@tapline/protocol/summary";
import { Socket } from "node:net";
import type { Writable } from "node:stream";
import type { DissectLimits } from "../dissectors/types.js";

export type DissectFormat = "jsonl" | "table" | "none";

/**
 * The limits dissection for `format` needs (DissectOptions.limits): the table and none show no
 * bodies, so HTTP bodies are only measured, not copied (~15% of a table dissect of HTTP traffic).
 */
export function dissectLimitsFor(format: DissectFormat): Partial<DissectLimits> {
  return format === "jsonl" ? {} : { keepBodies: false };
}

const COLUMNS = ["PROTOCOL", "SRC", "DST", "METHOD", "TARGET", "STATUS", "ELAPSED_MS"];
const WIDTHS = [9, 22, 22, 16, 40, 20, 10];

/** One padded cell: cut with an ellipsis when it does not fit its column. */
function cell(c: string, width: number): string {
  return c.length >= width ? c.slice(0, width - 1) + "… " : c.padEnd(width + 1);
}

function row(cells: string[]): string {
  let line = "";
  for (let i = 0; i < cells.length - 1; i++) line += cell(cells[i], WIDTHS[i]);
  return line + cells[cells.length - 1] + "\n";
}

function endpoint(e: EntryInit["src"]): string {
  if (!e?.ip) return "";
  return e.ip.includes(":") ? `[${e.ip}]:${e.port ?? 0}` : `${e.ip}:${e.port ?? 0}`;
}

let entryJsonLine: ((entry: EntryInit) => string) | undefined;

/**
 * Loads the jsonl encoder: it needs the protobuf module (616 KB of generated code and
 * protobufjs, ~30 ms of start-up), which table and none output do not, so it loads on demand.
 */
export async function loadJsonl(): Promise<void> {
  entryJsonLine ??= (await import("@tapline/protocol")).entryJsonLine;
}

/** One entry as output; "jsonl" only once loadJsonl() has resolved (else it throws). */
export function formatEntry(entry: EntryInit, format: DissectFormat): string {
  if (format === "jsonl") {
    if (!entryJsonLine) throw new Error("formatEntry: jsonl before loadJsonl() resolved");
    return entryJsonLine(entry) + "\n";
  }
  if (format === "none") return "";
  const s = summarizeEntry(entry);
  return (
    cell(s.protocol, WIDTHS[0]) + cell(endpoint(entry.src), WIDTHS[1]) + cell(endpoint(entry.dst), WIDTHS[2]) + cell(s.method, WIDTHS[3]) +
    cell(s.target, WIDTHS[4]) + cell(s.status, WIDTHS[5]) + (entry.elapsedMs ?? 0).toFixed(3) + "\n"
  );
}

/** Room for the ellipses, padding and newline of a row, beyond its cells' lengths (in UTF-16 units). */
const ROW_SLACK = WIDTHS.reduce((a, w) => a + w + 2, 0);

/** Writes s[from, to) as utf8 at `o`; returns the end. ASCII byte by byte, the rest through Buffer#write. */
function putText(b: Buffer, o: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return o + b.write(s.slice(i, to), o, "utf8");
    b[o++] = c;
  }
  return o;
}

function pad(b: Buffer, o: number, n: number): number {
  for (let i = 0; i < n; i++) b[o++] = 0x20;
  return o;
}

/** cell() written at `o`. */
function putCell(b: Buffer, o: number, c: string, width: number): number {
  if (c.length < width) return pad(b, putText(b, o, c, 0, c.length), width + 1 - c.length);
  // c.slice(0, width - 1) + "… ", the slice encoded on its own as cell() does (a cut surrogate pair included)
  o += b.write(c.slice(0, width - 1), o, "utf8");
  b[o] = 0xe2;
  b[o + 1] = 0x80;
  b[o + 2] = 0xa6;
  b[o + 3] = 0x20;
  return o + 4;
}

/** cell(endpoint(e)) written at `o` without building the endpoint string when it fits. */
function putEndpointCell(b: Buffer, o: number, e: EntryInit["src"], width: number): number {
  const ip = e?.ip;
  if (!ip) return pad(b, o, width + 1);
  const port = e.port ?? 0;
  const v6 = ip.includes(":");
  const portText = String(port);
  const len = ip.length + 1 + portText.length + (v6 ? 2 : 0);
  if (len >= width) return putCell(b, o, endpoint(e), width);
  if (v6) b[o++] = 0x5b;
  o = putText(b, o, ip, 0, ip.length);
  if (v6) b[o++] = 0x5d;
  b[o++] = 0x3a;
  o = putText(b, o, portText, 0, portText.length);
  return pad(b, o, width + 1 - len);
}

export function tableHeader(): string {
  return row(COLUMNS);
}

/**
 * Batches formatted entries into large writes; `drain()` resolves when `out` can take more,
 * so the reader pauses instead of queueing output without bound.
 *
 * Lines are encoded straight into one 1 MiB buffer (`buf.write`), written when full: joining
 * the lines into a 64 KiB string first and letting the stream encode it cost a flattening and
 * a second copy (about a third of the output cost on Redis entries). The buffer is reused only
 * for streams that hand bytes to the kernel (stdout as a file, pipe or socket) and took them at
 * once; any other stream may keep the chunk it was given (a PassThrough does), so it gets a new one.
 *
 * For jsonl the encoder loads in the background (loadJsonl): entries written before it is ready
 * wait in a list, and `drain()` returns the load, so the reader pauses until then.
 */
export class EntryWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private off = 0;
  private blocked: Promise<void> | null = null;
  /** `out` copies what it writes out before write() returns when nothing is left queued. */
  private readonly copiesOut: boolean;
  /** jsonl: entries written while the encoder loads (null once it is loaded). */
  private waiting: EntryInit[] | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly out: Writable,
    private readonly format: DissectFormat,
  ) {
    this.copiesOut = out instanceof Socket || typeof (out as { fd?: unknown }).fd === "number";
    if (format === "table") this.push(tableHeader());
    if (format === "jsonl" && !entryJsonLine) {
      this.waiting = [];
      this.loading = loadJsonl().then(() => {
        const waiting = this.waiting!;
        this.waiting = null;
        this.loading = null;
        for (const e of waiting) this.push(formatEntry(e, "jsonl"));
      });
    }
  }

  write(entry: EntryInit): void {
    if (this.format === "none") return;
    if (this.format === "table") this.tableRow(entry);
    else if (this.waiting) this.waiting.push(entry);
    else this.push(formatEntry(entry, this.format));
  }

  /**
   * formatEntry's table line, written into the buffer cell by cell: padding and joining the cells
   * as strings, then encoding the joined line, cost about a microsecond an entry (~10% of a table
   * dissect of HTTP traffic).
   */
  private tableRow(entry: EntryInit): void {
    const s = summarizeEntry(entry);
    const elapsed = (entry.elapsedMs ?? 0).toFixed(3);
    const src = entry.src;
    const dst = entry.dst;
    // utf8: at most 3 bytes per UTF-16 unit; an endpoint cell is at most its width + 1 units
    const units = s.protocol.length + s.method.length + s.target.length + s.status.length + elapsed.length + 2 * (WIDTHS[1] + 1) + ROW_SLACK;
    if (this.off + units * 3 > this.buf.length) {
      this.flush();
      if (units * 3 > this.buf.length) {
        this.push(formatEntry(entry, "table"));
        return;
      }
    }
    const b = this.buf;
    let o = this.off;
    o = putCell(b, o, s.protocol, WIDTHS[0]);
    o = putEndpointCell(b, o, src, WIDTHS[1]);
    o = putEndpointCell(b, o, dst, WIDTHS[2]);
    o = putCell(b, o, s.method, WIDTHS[3]);
    o = putCell(b, o, s.target, WIDTHS[4]);
    o = putCell(b, o, s.status, WIDTHS[5]);
    o = putText(b, o, elapsed, 0, elapsed.length);
    b[o++] = 0x0a;
    this.off = o;
  }

  drain(): Promise<void> | undefined {
    if (this.loading) return this.loading.then(() => this.drain());
    this.flush();
    return this.blocked ?? undefined;
  }

  /** Flushes and waits for the stream to take everything written. */
  async end(): Promise<void> {
    if (this.loading) await this.loading;
    this.flush();
    if (this.blocked) await this.blocked;
  }

  private push(s: string): void {
    // utf8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units)
    if (this.off + s.length * 3 > this.buf.length) {
      this.flush();
      if (s.length * 3 > this.buf.length) {
        this.send(s);
        return;
      }
    }
    this.off += this.buf.write(s, this.off, "utf8");
  }

  private flush(): void {
    if (this.off === 0) return;
    const chunk = this.buf.subarray(0, this.off);
    this.off = 0;
    this.send(chunk);
    if (!this.copiesOut || this.out.writableLength > 0) this.buf = Buffer.allocUnsafe(this.buf.length);
  }

  private send(data: Buffer | string): void {
    if (!this.out.write(data) && !this.blocked) {
      this.blocked = new Promise((resolve) =>
        this.out.once("drain", () => {
          this.blocked = null;
          resolve();
        }),
      );
    }
  }
}
