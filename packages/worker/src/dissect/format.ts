// Output of `tapline dissect`: JSON lines (the protobuf JSON mapping of each Entry), a table,
// or nothing (counting only: dissection cost apart from output cost).
import { entryJsonLine, summarizeEntry, type EntryInit } from "@tapline/protocol";
import type { Writable } from "node:stream";

export type DissectFormat = "jsonl" | "table" | "none";

const COLUMNS = ["PROTOCOL", "SRC", "DST", "METHOD", "TARGET", "STATUS", "ELAPSED_MS"];
const WIDTHS = [9, 22, 22, 16, 40, 20, 10];

function row(cells: string[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.length >= WIDTHS[i] ? c.slice(0, WIDTHS[i] - 1) + "… " : c.padEnd(WIDTHS[i] + 1))).join("") + "\n";
}

function endpoint(e: EntryInit["src"]): string {
  if (!e?.ip) return "";
  return e.ip.includes(":") ? `[${e.ip}]:${e.port ?? 0}` : `${e.ip}:${e.port ?? 0}`;
}

export function formatEntry(entry: EntryInit, format: DissectFormat): string {
  if (format === "jsonl") return entryJsonLine(entry) + "\n";
  if (format === "none") return "";
  const s = summarizeEntry(entry);
  return row([s.protocol, endpoint(entry.src), endpoint(entry.dst), s.method, s.target, s.status, (entry.elapsedMs ?? 0).toFixed(3)]);
}

export function tableHeader(): string {
  return row(COLUMNS);
}

/**
 * Batches formatted entries into large writes; `drain()` resolves when `out` can take more,
 * so the reader pauses instead of queueing output without bound.
 */
export class EntryWriter {
  private parts: string[] = [];
  private size = 0;
  private blocked: Promise<void> | null = null;

  constructor(
    private readonly out: Writable,
    private readonly format: DissectFormat,
  ) {
    if (format === "table") this.push(tableHeader());
  }

  write(entry: EntryInit): void {
    if (this.format === "none") return;
    this.push(formatEntry(entry, this.format));
  }

  drain(): Promise<void> | undefined {
    this.flush();
    return this.blocked ?? undefined;
  }

  /** Flushes and waits for the stream to take everything written. */
  async end(): Promise<void> {
    this.flush();
    if (this.blocked) await this.blocked;
  }

  private push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 65536) this.flush();
  }

  private flush(): void {
    if (!this.parts.length) return;
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    if (!this.out.write(text) && !this.blocked) {
      this.blocked = new Promise((resolve) =>
        this.out.once("drain", () => {
          this.blocked = null;
          resolve();
        }),
      );
    }
  }
}
