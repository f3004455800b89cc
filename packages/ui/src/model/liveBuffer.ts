// The live table's rows: newest first, bounded, with batches applied in one step
// (the component calls `flush` once per animation frame, not once per entry).
import type { EntryRow } from "./entryRow.js";

export class LiveBuffer {
  private rows: EntryRow[] = [];
  private pending: EntryRow[] = [];
  private ids = new Set<string>();
  /** Rows evicted because the buffer was full. */
  evicted = 0;
  /** Rows the hub said it could not send us (slow-client gaps). */
  gaps = 0;

  constructor(readonly capacity = 100_000) {}

  /** Queue rows (in arrival order, oldest first) to appear at the next flush. */
  push(rows: readonly EntryRow[]): void {
    for (const r of rows) this.pending.push(r);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Apply queued rows; returns true when the visible rows changed. Duplicate ids are ignored. */
  flush(): boolean {
    if (this.pending.length === 0) return false;
    const fresh: EntryRow[] = [];
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const r = this.pending[i];
      if (this.ids.has(r.id)) continue;
      this.ids.add(r.id);
      fresh.push(r);
    }
    this.pending = [];
    let next = fresh.length ? fresh.concat(this.rows) : this.rows;
    if (next.length > this.capacity) {
      for (let i = this.capacity; i < next.length; i++) this.ids.delete(next[i].id);
      this.evicted += next.length - this.capacity;
      next = next.slice(0, this.capacity);
    }
    const changed = next !== this.rows;
    this.rows = next;
    return changed;
  }

  /** Older rows fetched by paging go to the end. */
  appendOlder(rows: readonly EntryRow[]): void {
    const add = rows.filter((r) => !this.ids.has(r.id));
    for (const r of add) this.ids.add(r.id);
    this.rows = this.rows.concat(add).slice(0, this.capacity);
  }

  clear(): void {
    this.rows = [];
    this.pending = [];
    this.ids.clear();
    this.evicted = 0;
    this.gaps = 0;
  }

  snapshot(): readonly EntryRow[] {
    return this.rows;
  }
}
