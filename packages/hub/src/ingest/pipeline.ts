// The one path by which entries are stored: decode, redact (SPEC §3), index, insert, and tell
// the listeners (live stream, metrics) about the entries that were new.
// Worker batches are group-committed: each is redacted, indexed and written as it arrives, into
// the store's open transaction, which is committed once per turn of the event loop (or every
// GROUP_ENTRIES rows): every batch received in one turn shares a commit. A commit's cost is mostly
// the hot index pages written to the WAL, so a few thousand rows per commit cost less per entry
// than one worker batch of 500 (bench/hub). For a file store the group is written by the store's
// writer thread while the next one is received and redacted here (store/writer.ts); a group waits
// while the previous one is being written, and grows meanwhile. A batch's `stored` callback runs
// only after its commit: the ingest acknowledges nothing uncommitted.
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
  /** Commit at once when this many rows are waiting (bounds the transaction and the WAL). */
  groupEntries?: number;
}

const GROUP_ENTRIES = 8000;

export class IngestPipeline {
  readonly counters: IngestCounters = { entries: 0, duplicates: 0, redacted: 0, invalid: 0 };
  private readonly listeners: StoredListener[] = [];
  private readonly groupEntries: number;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly redactor: Redactor, private readonly store: EntryStore, options: PipelineOptions = {}) {
    this.groupEntries = options.groupEntries ?? GROUP_ENTRIES;
    if (!Number.isInteger(this.groupEntries) || this.groupEntries < 1) throw new Error(`ingest: groupEntries must be a positive integer, got ${this.groupEntries}`);
  }

  onStored(listener: StoredListener): void {
    this.listeners.push(listener);
  }

  /**
   * Entries as encoded by a worker (views into its message), redacted and written now in the
   * open transaction with the batch's seq, when given; `stored` runs after the commit.
   */
  enqueueEncoded(workerId: string, encoded: Uint8Array[], seq?: SeqUpdate, stored?: () => void): void {
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
    this.write(entries, rows, seq ? [seq] : [], stored);
    if (this.store.uncommitted >= this.groupEntries) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  }

  /** enqueueEncoded, committed before it returns; returns how many entries were new. */
  ingestEncoded(workerId: string, encoded: Uint8Array[], seq?: SeqUpdate): number {
    const before = this.counters.entries;
    this.enqueueEncoded(workerId, encoded, seq);
    this.flush();
    this.store.drain();
    return this.counters.entries - before;
  }

  /** Entries built in-process (e.g. a local capture or file view); redacted like worker ones, stored before it returns. */
  ingest(workerId: string, inits: EntryInit[]): number {
    const entries: Entry[] = [];
    const rows: NewRow[] = [];
    for (const init of inits) {
      const entry = init instanceof Entry ? init : Entry.fromObject(init);
      this.redactor.redactEntry(entry);
      this.add(entry, workerId, Entry.encode(entry).finish(), entries, rows);
    }
    const before = this.counters.entries;
    this.write(entries, rows, [], undefined);
    this.flush();
    this.store.drain();
    return this.counters.entries - before;
  }

  /** Commits the open transaction (acknowledgements follow). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.store.commit();
  }

  /**
   * Writes a batch's rows in the store's group and tells the listeners about the new ones. A batch
   * carrying the next seq of its worker is new by construction (seqs are stored with their rows),
   * so its entries are told at once, not held until the writer thread answers: holding decoded
   * entries for a commit cost more in garbage collection than the thread saves. Entries of other
   * batches (resent after a reconnect, in-process ones) are told when the store says which were
   * new. Counts are corrected if a "new" batch held known ids; a write that fails after its entries
   * were told is counted in the store's droppedOnError.
   */
  private write(entries: Entry[], rows: NewRow[], seqs: SeqUpdate[], stored: (() => void) | undefined): void {
    if (seqs.length > 0) this.writeNew(entries, rows, seqs, stored);
    else this.writeMaybeKnown(entries, rows, stored);
  }

  /** A batch with the next seq: told at once; its callback keeps no entry alive (own scope). */
  private writeNew(entries: Entry[], rows: NewRow[], seqs: SeqUpdate[], stored: (() => void) | undefined): void {
    let exact = false; // told with the store's answer (no writer thread): nothing to correct
    const inserted = this.store.write(rows, seqs, (ins, failed) => {
      if (!failed && !exact) {
        let dup = 0;
        for (const ok of ins) if (!ok) dup++;
        this.counters.entries -= dup;
        this.counters.duplicates += dup;
      }
      stored?.();
    });
    exact = inserted !== undefined;
    if (inserted) this.tell(entries, rows, inserted);
    else if (rows.length > 0) {
      this.counters.entries += rows.length;
      const columns = rows.map((r) => r.columns);
      for (const l of this.listeners) l(entries, columns);
    }
  }

  private writeMaybeKnown(entries: Entry[], rows: NewRow[], stored: (() => void) | undefined): void {
    let settled = false;
    const inserted = this.store.write(rows, [], (ins) => {
      if (!settled) this.tell(entries, rows, ins);
      stored?.();
    });
    if (inserted) {
      settled = true;
      this.tell(entries, rows, inserted);
    }
  }

  private tell(entries: Entry[], rows: NewRow[], inserted: boolean[]): void {
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
}
