// The one path by which entries are stored: decode, redact (SPEC §3), index, insert, and tell
// the listeners (live stream, metrics) about the entries that were new.
import { Entry } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { decodeEntry, normalizeLongs } from "./decode.js";
import { columnValues } from "../filter/columns.js";
import type { Redactor } from "../redact/index.js";
import type { EntryStore, NewRow } from "../store/index.js";

export type StoredListener = (entries: Entry[]) => void;

export interface IngestCounters {
  entries: number;
  duplicates: number;
  redacted: number;
  invalid: number;
}

export class IngestPipeline {
  readonly counters: IngestCounters = { entries: 0, duplicates: 0, redacted: 0, invalid: 0 };
  private readonly listeners: StoredListener[] = [];

  constructor(private readonly redactor: Redactor, private readonly store: EntryStore) {}

  onStored(listener: StoredListener): void {
    this.listeners.push(listener);
  }

  /** Entries as encoded by a worker (views into its message). Returns how many were new. */
  ingestEncoded(workerId: string, encoded: Uint8Array[]): number {
    const entries: Entry[] = [];
    const rows: NewRow[] = [];
    for (const bytes of encoded) {
      let entry: Entry;
      try {
        entry = decodeEntry(bytes);
      } catch {
        this.counters.invalid++;
        continue;
      }
      const changed = this.redactor.redactEntry(entry);
      this.add(entry, workerId, changed ? Entry.encode(entry).finish() : bytes, entries, rows);
    }
    return this.commit(entries, rows);
  }

  /** Entries built in-process (e.g. a local capture or file view); redacted like worker ones. */
  ingest(workerId: string, inits: EntryInit[]): number {
    const entries: Entry[] = [];
    const rows: NewRow[] = [];
    for (const init of inits) {
      const entry = normalizeLongs(init instanceof Entry ? init : Entry.fromObject(init));
      this.redactor.redactEntry(entry);
      this.add(entry, workerId, Entry.encode(entry).finish(), entries, rows);
    }
    return this.commit(entries, rows);
  }

  private add(entry: Entry, workerId: string, data: Uint8Array, entries: Entry[], rows: NewRow[]): void {
    if (!entry.id) {
      this.counters.invalid++;
      return;
    }
    if (entry.redacted) this.counters.redacted++;
    entries.push(entry);
    rows.push({ id: entry.id, workerId: entry.workerId || workerId, columns: columnValues(entry), data });
  }

  private commit(entries: Entry[], rows: NewRow[]): number {
    const inserted = this.store.insertBatch(rows);
    const fresh: Entry[] = [];
    for (let i = 0; i < inserted.length; i++) if (inserted[i]) fresh.push(entries[i]);
    this.counters.entries += fresh.length;
    this.counters.duplicates += rows.length - fresh.length;
    if (fresh.length > 0) for (const l of this.listeners) l(fresh);
    return fresh.length;
  }
}
