// The one path by which entries are stored: decode, redact (SPEC §3), index, insert, and tell
// the listeners (live stream, metrics) about the entries that were new.
// Worker batches are group-committed: each is redacted and indexed as it arrives, and the rows of
// every batch received in one turn of the event loop (or up to GROUP_ENTRIES) go into one SQLite
// transaction. A transaction's cost is mostly its hot index pages written to the WAL once per
// commit, so a few thousand rows per commit cost less per entry than one worker batch of 500
// (bench/hub). The commit runs on the store's writer thread while the next group is decoded and
// redacted here (store/writer.ts). A batch's `stored` callback runs only after its commit: the
// ingest acknowledges nothing uncommitted.
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

export interface PipelineOptions {
  /** Commit at once when this many rows are waiting (bounds the memory held between commits). */
  groupEntries?: number;
}

const GROUP_ENTRIES = 8000;

export class IngestPipeline {
  readonly counters: IngestCounters = { entries: 0, duplicates: 0, redacted: 0, invalid: 0 };
  private readonly listeners: StoredListener[] = [];
  private readonly groupEntries: number;
  // The group waiting for its commit.
  private entries: Entry[] = [];
  private rows: NewRow[] = [];
  private seqs: SeqUpdate[] = [];
  private stored: (() => void)[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly redactor: Redactor, private readonly store: EntryStore, options: PipelineOptions = {}) {
    this.groupEntries = options.groupEntries ?? GROUP_ENTRIES;
    if (!Number.isInteger(this.groupEntries) || this.groupEntries < 1) throw new Error(`ingest: groupEntries must be a positive integer, got ${this.groupEntries}`);
  }

  onStored(listener: StoredListener): void {
    this.listeners.push(listener);
  }

  /**
   * Entries as encoded by a worker (views into its message), redacted
   * now and stored with the batch's seq, when given, by the next commit; `stored` runs after it.
   */
  enqueueEncoded(workerId: string, encoded: Uint8Array[], seq?: SeqUpdate, stored?: () => void): void {
    for (const bytes of encoded) {
      let entry: Entry;
      try {
        entry = Entry.decode(bytes);
      } catch {
        this.counters.invalid++;
        continue;
      }
      // The byte pre-check spares the redactor's walk (and the re-encode) for entries that
      // provably hold nothing it would change; those are stored as the bytes the worker sent
      // (the view keeps the received message alive until the commit: nothing reuses its memory).
      const changed = this.redactor.mayRedact(bytes) && this.redactor.redactEntry(entry);
      this.add(entry, workerId, changed ? Entry.encode(entry).finish() : bytes);
    }
    if (seq) this.seqs.push(seq);
    if (stored) this.stored.push(stored);
    if (this.rows.length >= this.groupEntries) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  }

  /** enqueueEncoded, committed before it returns; returns how many entries were new. */
  ingestEncoded(workerId: string, encoded: Uint8Array[], seq?: SeqUpdate): number {
    this.flush();
    this.enqueueEncoded(workerId, encoded, seq);
    return this.commitNow();
  }

  /** Entries built in-process (e.g. a local capture or file view); redacted like worker ones, stored before it returns. */
  ingest(workerId: string, inits: EntryInit[]): number {
    this.flush(); // keeps arrival order
    for (const init of inits) {
      const entry = init instanceof Entry ? init : Entry.fromObject(init);
      this.redactor.redactEntry(entry);
      this.add(entry, workerId, Entry.encode(entry).finish());
    }
    return this.commitNow();
  }

  /** Hands the waiting group to the store's writer (no-op when empty). */
  flush(): void {
    this.commit(false);
  }

  /** Commits the waiting group and every earlier one before returning; how many entries were new in it. */
  commitNow(): number {
    return this.commit(true);
  }

  private commit(now: boolean): number {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const { entries, rows, seqs, stored } = this;
    if (rows.length === 0 && seqs.length === 0 && stored.length === 0) {
      if (now) this.store.drain();
      return 0;
    }
    this.entries = [];
    this.rows = [];
    this.seqs = [];
    this.stored = [];
    if (now) return this.committed(entries, rows, stored, this.store.insertBatch(rows, seqs));
    this.store.insertBatchAsync(rows, seqs, (inserted) => this.committed(entries, rows, stored, inserted));
    return 0;
  }

  private committed(entries: Entry[], rows: NewRow[], stored: (() => void)[], inserted: boolean[]): number {
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
    for (const cb of stored) cb();
    if (fresh.length > 0) for (const l of this.listeners) l(fresh, columns);
    return fresh.length;
  }

  private add(entry: Entry, workerId: string, data: Uint8Array): void {
    if (!entry.id) {
      this.counters.invalid++;
      return;
    }
    if (entry.redacted) this.counters.redacted++;
    this.entries.push(entry);
    // Columns come from the redacted entry: the path column holds the redacted query.
    this.rows.push({ id: entry.id, workerId: entry.workerId || workerId, columns: columnValues(entry), data });
  }
}
