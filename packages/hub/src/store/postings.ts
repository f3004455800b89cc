// In-memory postings for the store's text columns that filters test for equality (src_pod,
// dst_namespace, method, …: the columns of filter/columns.ts found by `postings`): per column, per
// value, the ascending rowids of the rows holding it. They replace SQLite indexes on those
// columns, which cost the writer thread ~1 µs per entry each (bench/hub); here an entry costs six
// appends on the main thread.
// The store gives every row its rowid before the row is written (ascending, never reused within
// a process), so appends keep each list sorted, and eviction (oldest rowids first) trims the
// heads. A posting may name a rowid that holds no row (a row still in flight to the writer
// thread, or one lost to a duplicate id or a failed write that was not removed yet): readers
// re-check every candidate with SQL, so postings only have to be a superset of the rows.
// Rowids are kept as float64 (exact integers up to 2^53) so that a long-lived file's rowids never
// wrap; 8 bytes per posted column per row.
import type { ColumnValue } from "../filter/columns.js";

const MIN_CAPACITY = 4;

/** One value's rowids, ascending, in ids[start, end). */
export class RowidList {
  ids = new Float64Array(MIN_CAPACITY);
  start = 0;
  end = 0;

  get length(): number {
    return this.end - this.start;
  }

  push(rowid: number): void {
    if (this.end === this.ids.length) this.makeRoom();
    this.ids[this.end++] = rowid;
  }

  /** Index of the first rowid >= `rowid` in [start, end) (end when none). */
  lowerBound(rowid: number): number {
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid] < rowid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Removes the rowids in [lo, hi). Usually at the tail (the newest rows): cheap. */
  removeRange(lo: number, hi: number): void {
    const a = this.lowerBound(lo);
    const b = this.lowerBound(hi);
    if (a === b) return;
    this.ids.copyWithin(a, b, this.end);
    this.end -= b - a;
  }

  /** Drops every rowid below `rowid` (eviction deletes the oldest rows). */
  trimBelow(rowid: number): void {
    this.start = this.lowerBound(rowid);
    if (this.start === this.end) this.start = this.end = 0;
  }

  private makeRoom(): void {
    const n = this.end - this.start;
    // Trimmed heads are reclaimed before growing: a list that is appended and trimmed at the same
    // pace stays in the same array.
    if (this.start > 0 && n <= this.ids.length / 2) {
      this.ids.copyWithin(0, this.start, this.end);
    } else {
      const next = new Float64Array(Math.max(MIN_CAPACITY, n * 2));
      next.set(this.ids.subarray(this.start, this.end));
      this.ids = next;
    }
    this.start = 0;
    this.end = n;
  }
}

/** `column` holds one of `values` in every row a filter can select (filter/sql.ts's SqlHint). */
export interface PostingHint {
  column: string;
  values: readonly string[];
}

/**
 * The key of a text value: the text as read back from SQLite, so that the postings rebuilt at
 * open have the keys they had. Bound text is stored as UTF-8, a lone surrogate as its 3-byte
 * form, which reads back as three U+FFFD. Distinct values SQL tells apart may share a key (a lone
 * surrogate and three U+FFFD): the SQL re-check decides between them.
 */
export function postingKey(v: ColumnValue): string {
  const s = typeof v === "string" ? v : String(v);
  return /[\uD800-\uDFFF]/.test(s) ? s.replace(LONE_SURROGATE, "\uFFFD\uFFFD\uFFFD") : s;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export class Postings {
  /** Per posted column: value -> rowids. */
  private readonly maps: Map<string, RowidList>[];
  private readonly byName = new Map<string, number>();

  /**
   * `columns`: the posted columns, by name and position in a row's values (COLUMNS order).
   */
  constructor(private readonly columns: readonly { name: string; index: number }[]) {
    this.maps = columns.map(() => new Map());
    columns.forEach((c, i) => this.byName.set(c.name, i));
  }

  /** Whether `column` has postings. */
  has(column: string): boolean {
    return this.byName.has(column);
  }

  /** Posts a row (its rowid above every rowid posted before). */
  add(rowid: number, values: readonly ColumnValue[]): void {
    for (let c = 0; c < this.columns.length; c++) this.list(c, values[this.columns[c].index]).push(rowid);
  }

  /** The list of a value, made if new. */
  private list(c: number, v: ColumnValue): RowidList {
    const map = this.maps[c];
    // Keys are well-formed text: a hit means `v` is its own key (the usual case: no key computed).
    let list = map.get(v as string);
    if (list) return list;
    const key = postingKey(v);
    list = map.get(key);
    if (!list) map.set(key, (list = new RowidList()));
    return list;
  }

  /** Unposts a row added with these values (a duplicate id, a failed write). */
  remove(rowid: number, values: readonly ColumnValue[]): void {
    for (let c = 0; c < this.columns.length; c++) {
      const map = this.maps[c];
      const key = postingKey(values[this.columns[c].index]);
      const list = map.get(key);
      if (!list) continue;
      list.removeRange(rowid, rowid + 1);
      if (list.length === 0) map.delete(key);
    }
  }

  /**
   * Unposts rows `first + i` given with `values[i]`, those whose `keep[i]` is 0 (all without
   * `keep`): the duplicates of a written group, or a lost one. Each list they touch is compacted
   * once, from its first removed rowid on (the newest rows: a short tail).
   */
  removeRows(first: number, values: readonly (readonly ColumnValue[])[], keep: Uint8Array | undefined): void {
    const gone = new Set<number>();
    const touched = new Map<RowidList, number>();
    for (let i = 0; i < values.length; i++) {
      if (keep && keep[i] !== 0) continue;
      const rowid = first + i;
      gone.add(rowid);
      for (let c = 0; c < this.columns.length; c++) {
        const list = this.maps[c].get(postingKey(values[i][this.columns[c].index]));
        if (list && !touched.has(list)) touched.set(list, rowid); // rowids ascend: the first is the lowest
      }
    }
    for (const [list, lowest] of touched) {
      let w = list.lowerBound(lowest);
      for (let r = w; r < list.end; r++) if (!gone.has(list.ids[r])) list.ids[w++] = list.ids[r];
      list.end = w;
    }
    if (touched.size > 0) this.dropEmpty();
  }

  /** Unposts every rowid in [lo, hi) (a rolled-back transaction whose rows are not known one by one). */
  removeRange(lo: number, hi: number): void {
    for (const map of this.maps) {
      for (const [key, list] of map) {
        list.removeRange(lo, hi);
        if (list.length === 0) map.delete(key);
      }
    }
  }

  /** Drops every rowid below `rowid`, and the values left with none. */
  trimBelow(rowid: number): void {
    for (const map of this.maps) {
      for (const [key, list] of map) {
        if (list.length > 0 && list.ids[list.start] >= rowid) continue;
        list.trimBelow(rowid);
        if (list.length === 0) map.delete(key);
      }
    }
  }

  private dropEmpty(): void {
    for (const map of this.maps) for (const [key, list] of map) if (list.length === 0) map.delete(key);
  }

  clear(): void {
    for (const map of this.maps) map.clear();
  }

  /** Rowids posted in all (a superset of the stored rows' count times the columns). */
  get size(): number {
    let n = 0;
    for (const map of this.maps) for (const list of map.values()) n += list.length;
    return n;
  }

  /** The lists of a hint's values (none for a value never posted). */
  lists(hint: PostingHint): RowidList[] {
    const c = this.byName.get(hint.column);
    if (c === undefined) throw new Error(`store: no postings for column ${hint.column}`);
    const out: RowidList[] = [];
    const seen = new Set<string>();
    for (const v of hint.values) {
      const key = postingKey(v);
      if (seen.has(key)) continue; // `in ("a", "a")`: one list once, or a rowid would come twice
      seen.add(key);
      const list = this.maps[c].get(key);
      if (list && list.length > 0) out.push(list);
    }
    return out;
  }

  /**
   * Walks, newest first, the rowids below `before` (0: all) that are in every hint: the union of
   * the lists of the hint with the fewest rowids, each checked against the others' lists.
   * Undefined when no hint is given.
   */
  walk(hints: readonly PostingHint[], before: number): CandidateWalk | undefined {
    if (hints.length === 0) return undefined;
    const sets = hints.map((h) => this.lists(h));
    let best = 0;
    let bestCount = Infinity;
    for (let i = 0; i < sets.length; i++) {
      let n = 0;
      for (const l of sets[i]) n += l.length;
      if (n < bestCount) {
        bestCount = n;
        best = i;
      }
    }
    return new CandidateWalk(sets[best], sets.filter((_, i) => i !== best), before > 0 ? before : Infinity);
  }
}

/** Candidate rowids, descending, taken a chunk at a time (see Postings.walk). */
export class CandidateWalk {
  /** Per list of the walked hint: index of its next (largest remaining) rowid, start - 1 when done. */
  private readonly next: number[];
  /** Per list of the other hints: an index bound above which no later candidate can be. */
  private readonly bounds: number[][];

  /** Rowids of the walked hint's lists: at least the number of candidates. */
  readonly estimate: number;

  constructor(
    private readonly lists: readonly RowidList[],
    private readonly others: readonly (readonly RowidList[])[],
    before: number,
  ) {
    let n = 0;
    for (const l of lists) n += l.length;
    this.estimate = n;
    this.next = lists.map((l) => l.lowerBound(before) - 1);
    this.bounds = others.map((set) => set.map((l) => l.end));
  }

  /** Fills `out` from `at` with up to `max` candidates; returns how many (0: exhausted). */
  take(out: number[] | Float64Array, max: number, at = 0): number {
    const { lists, next } = this;
    let n = 0;
    while (n < max) {
      // The largest next rowid among the lists (one list per value: usually few).
      let k = -1;
      let id = -Infinity;
      for (let i = 0; i < lists.length; i++) {
        if (next[i] >= lists[i].start && lists[i].ids[next[i]] > id) {
          id = lists[i].ids[next[i]];
          k = i;
        }
      }
      if (k < 0) break;
      next[k]--;
      if (this.inOthers(id)) out[at + n++] = id;
    }
    return n;
  }

  private inOthers(id: number): boolean {
    for (let h = 0; h < this.others.length; h++) {
      const set = this.others[h];
      const bounds = this.bounds[h];
      let found = false;
      for (let i = 0; i < set.length; i++) {
        const list = set[i];
        // Candidates descend: search only below where the previous one was.
        let lo = list.start;
        let hi = Math.min(bounds[i], list.end);
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (list.ids[mid] < id) lo = mid + 1;
          else hi = mid;
        }
        bounds[i] = lo + 1;
        if (lo < list.end && list.ids[lo] === id) found = true;
      }
      if (!found) return false;
    }
    return true;
  }
}
