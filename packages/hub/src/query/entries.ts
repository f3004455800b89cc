// Paged entry queries: SQL narrows (and orders newest first by rowid); when the compiled filter
// is not exact, the predicate decides on the decoded rows, scanning a bounded number per call.
import { Entry } from "@tapline/protocol";
import type { EntryStore } from "../store/index.js";
import type { CompiledFilter } from "./filter.js";

export interface EntryPage {
  entries: Entry[];
  /** Cursor for the next (older) page: pass as `before`; null when there is nothing older. */
  next: number | null;
}

/** Rows decoded per call at most when the predicate has to decide. */
const SCAN_CAP = 20_000;
const SCAN_CHUNK = 500;
/**
 * Wall time one call may spend deciding rows with the predicate: the event loop also serves
 * ingest. A `matches` test is bounded (filter/predicate.ts) but 20,000 rows of them are not;
 * past the budget the page ends early with its cursor, as it does at SCAN_CAP.
 */
export const SCAN_BUDGET_MS = 200;

export function queryEntries(store: EntryStore, filter: CompiledFilter, before: number, limit: number, budgetMs = SCAN_BUDGET_MS): EntryPage {
  if (filter.sql.exact) {
    const rows = store.page(filter.sql, before, limit);
    return { entries: rows.map((r) => Entry.decode(r.data)), next: rows.length === limit ? rows[rows.length - 1].rowid : null };
  }
  const entries: Entry[] = [];
  let cursor = before;
  let scanned = 0;
  const deadline = performance.now() + budgetMs;
  while (entries.length < limit && scanned < SCAN_CAP) {
    const rows = store.page(filter.sql, cursor, SCAN_CHUNK);
    for (const r of rows) {
      cursor = r.rowid;
      scanned++;
      const e = Entry.decode(r.data);
      if (filter.predicate(e)) {
        entries.push(e);
        if (entries.length === limit) return { entries, next: cursor };
      }
      // Every 32 rows: reading the clock costs more than most predicates.
      if ((scanned & 31) === 0 && performance.now() > deadline) return { entries, next: cursor };
    }
    if (rows.length < SCAN_CHUNK) return { entries, next: null };
  }
  return { entries, next: cursor };
}

/** Every matching entry with ts in [sinceUs, untilUs), oldest first, at most `max`. */
export function* scanEntries(store: EntryStore, filter: CompiledFilter, sinceUs: number, untilUs: number, max: number): IterableIterator<Entry> {
  let n = 0;
  for (const row of store.scan<{ data: Buffer }>("data", filter.sql, sinceUs, untilUs)) {
    const e = Entry.decode(row.data);
    if (!filter.sql.exact && !filter.predicate(e)) continue;
    yield e;
    if (++n >= max) return;
  }
}
