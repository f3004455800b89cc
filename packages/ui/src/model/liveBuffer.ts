// The live table's rows: newest first, bounded, with batches applied in one step (the
// component calls `flush` once per animation frame, not once per entry). Rows are kept
// oldest-first in an append-only array, so a flush costs O(new rows), not O(all rows);
// views read it backwards.
import type { EntryRow } from "./entryRow.js";

/** A read-only, newest-first view of the rows at one moment. */
export interface RowView {
  readonly length: number;
  at(index: number): EntryRow;
  /** Index of the row with this id, or -1. */
  indexOf(id: string): number;
}

export const emptyView: RowView = { length: 0, at: () => undefined as unknown as EntryRow, indexOf: () => -1 };

export class LiveBuffer {
  /** Oldest first; live rows are items[start..]. Older rows loaded by paging sit in `older`, newest first. */
  private items: EntryRow[] = [];
  private start = 0;
  private older: EntryRow[] = [];
  private pending: EntryRow[] = [];
  private ids = new Set<string>();
  /** Rows evicted because the buffer was full. */
  evicted = 0;
  /** Rows the hub said it could not send us (slow-client gaps). */
  gaps = 0;

  constructor(readonly capacity = 100_000) {}

  /** Queue rows (in arrival order, oldest first) to appear at the next flush. While paused, the oldest queued rows beyond the capacity are dropped. */
  push(rows: readonly EntryRow[]): void {
    for (const r of rows) this.pending.push(r);
    if (this.pending.length > this.capacity * 2) {
      const cut = this.pending.length - this.capacity;
      this.pending = this.pending.slice(cut);
      this.evicted += cut;
    }
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get size(): number {
    return this.items.length - this.start + this.older.length;
  }

  /** Apply queued rows; returns true when the visible rows changed. Duplicate ids are ignored. */
  flush(): boolean {
    if (this.pending.length === 0) return false;
    let added = 0;
    for (const r of this.pending) {
      if (this.ids.has(r.id)) continue;
      this.ids.add(r.id);
      this.items.push(r);
      added++;
    }
    this.pending = [];
    this.trim();
    return added > 0;
  }

  /** Older rows fetched by paging (newest first) go to the end of the view. */
  appendOlder(rows: readonly EntryRow[]): void {
    for (const r of rows) {
      if (this.ids.has(r.id)) continue;
      this.ids.add(r.id);
      this.older.push(r);
    }
    this.trim();
  }

  clear(): void {
    this.items = [];
    this.start = 0;
    this.older = [];
    this.pending = [];
    this.ids.clear();
    this.evicted = 0;
    this.gaps = 0;
  }

  /** A newest-first view; a new object on every call so React sees the change. */
  snapshot(): RowView {
    const items = this.items;
    const start = this.start;
    const live = items.length - start;
    const older = this.older;
    const length = live + older.length;
    return {
      length,
      at: (i) => (i < live ? items[items.length - 1 - i] : older[i - live]),
      indexOf: (id) => {
        for (let i = 0; i < length; i++) if ((i < live ? items[items.length - 1 - i] : older[i - live]).id === id) return i;
        return -1;
      },
    };
  }

  private trim(): void {
    let excess = this.size - this.capacity;
    if (excess <= 0) return;
    // Paged-in older rows go first, then the oldest live rows.
    while (excess > 0 && this.older.length) {
      this.ids.delete(this.older.pop()!.id);
      excess--;
      this.evicted++;
    }
    while (excess > 0) {
      this.ids.delete(this.items[this.start++].id);
      excess--;
      this.evicted++;
    }
    // Compact now and then, so the array does not grow without bound (amortised O(1)).
    if (this.start > this.capacity / 2) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }
}
