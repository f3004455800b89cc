// The one path by which entries are stored: decode, redact (SPEC §3), index, insert, and tell
// the listeners (live stream, metrics) about the entries that were new.
import { Entry } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { columnValues } from "../filter/columns.js";
import type { ColumnValue } from "../filter/columns.js";
import type { Redactor } from "../redact/index.js";
import type { EntryStore, NewRow, SeqUpdate } from "../store/index.js";

/** New entries and, index for index, their column values (computed once, at insert). */
export type StoredListener = (entries: Entry[], columns: ColumnValue[][]) => void;

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

  /**
   * Entries as encoded by a worker (views into its message), stored in one transaction with the
   * batch's seq when given. Returns how many were new.
   */
  ingestEncoded(workerId: string, encoded: Uint8Array[], seq?: SeqUpdate): number {
    const entries: Entry[] = [];
    const rows: NewRow[] = [];
    for (const bytes of encoded) {
      let entry: Entry;
      try {
        entry = Entry.decode(bytes);
      } catch {
        this.counters.invalid++;
        continue;
      }
      // The byte pre-check spares the redactor's walk (and the re-encode) for entries that
      // provably hold nothing it would change; those are stored as the bytes the worker sent.
      const changed = this.redactor.mayRedact(bytes) && this.redactor.redactEntry(entry);
      this.add(entry, workerId, changed ? Entry.encode(entry).finish() : bytes, entries, rows);
    }
    return this.commit(entries, rows, seq);
  }

  /** Entries built in-process (e.g. a local capture or file view); redacted like worker ones. */
  ingest(workerId: string, inits: EntryInit[]): number {
    const entries: Entry[] = [];
    const rows: NewRow[] = [];
    for (const init of inits) {
      const entry = init instanceof Entry ? init : Entry.fromObject(init);
      this.redactor.redactEntry(entry);
      this.add(entry, workerId, Entry.encode(entry).finish(), entries, rows);
    }
    return this.commit(entries, rows, undefined);
  }

  private add(entry: Entry, workerId: string, data: Uint8Array, entries: Entry[], rows: NewRow[]): void {
    if (!entry.id) {
      this.counters.invalid++;
      return;
    }
    if (entry.redacted) this.counters.redacted++;
    entries.push(entry);
    // Columns come from the redacted entry: the path column holds the redacted query.
    rows.push({ id: entry.id, workerId: entry.workerId || workerId, columns: columnValues(entry), data });
  }

  private commit(entries: Entry[], rows: NewRow[], seq: SeqUpdate | undefined): number {
    const inserted = this.store.insertBatch(rows, seq);
    const fresh: Entry[] = [];
    const columns: ColumnValue[][] = [];
    for (let i = 0; i < inserted.length; i++) {
      if (inserted[i]) {
        fresh.push(entries[i]);
        columns.push(rows[i].columns);
      }
    }
    this.counters.entries += fresh.length;
    this.counters.duplicates += rows.length - fresh.length;
    if (fresh.length > 0) for (const l of this.listeners) l(fresh, columns);
    return fresh.length;
  }
}
