// Entry storage: SQLite (better-sqlite3) in WAL mode. One row per entry in `entries`: the
// columns of filter/columns.ts, the entry id (unique: the hub de-duplicates on it) and the worker
// id; the entry as protobuf sits in `entry_data` under the same rowid, so that the rows a filter
// walks stay narrow (a scan reads ~100 bytes per entry, not the whole encoded entry). Bounded by
// `limitBytes`: the pages in use are checked every hundredth of the limit of inserts and the
// oldest rows are deleted in chunks until usage is back under the low mark.
// Two ways in: insertBatch (one transaction per call, on this connection) and write()/commit(), a
// group that the ingest fills batch by batch and commits once per event-loop turn
// (ingest/pipeline.ts). For a file, a group is written by a worker_thread with its own connection
// (store/writer.ts), so that the next group is received and redacted while this one is written;
// ":memory:" (or writerThread: false) writes it here, in an open transaction.
// SQLite's cost per entry (bench/hub, 4000 rows per commit): ~6.5 µs for the row, the id index and
// the blob, ~0.8 µs per secondary index. So the text columns that filters test for equality have
// no SQLite index: the store keeps postings of them in memory (store/postings.ts), which is why it
// gives every row its rowid itself (`nextRowid`, on the main thread) before the row is written.
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { COLUMNS } from "../filter/columns.js";
import type { ColumnValue } from "../filter/columns.js";
import { Postings } from "./postings.js";
import type { CandidateWalk, PostingHint } from "./postings.js";
import { RowPacker } from "./rowpack.js";
import { StoreWriter } from "./writer.js";
import type { WriterReply } from "./writer.js";

export interface StoreOptions {
  /** File path, or ":memory:" (tests). */
  path: string;
  /** Bound on the database's size on disk (pages in use plus the WAL). */
  limitBytes: number;
  /**
   * write()/commit() groups are written on a worker_thread (store/writer.ts). Default: for a
   * file (a ":memory:" database cannot be shared with another connection).
   */
  writerThread?: boolean;
}

/**
 * Runs once a write()'s rows are committed or lost: per row whether it was new (all false when
 * the write failed: `failed`, counted in stats().droppedOnError).
 */
export type WriteDone = (inserted: boolean[], failed: boolean) => void;

export interface NewRow {
  id: string;
  workerId: string;
  columns: ColumnValue[];
  /** Encoded Entry; copied by SQLite when bound. */
  data: Uint8Array;
}

/** A worker's batch sequence number, stored with the batch's rows. */
export interface SeqUpdate {
  workerId: string;
  seq: number;
}

export interface SqlFilter {
  where: string;
  params: unknown[];
  /**
   * Posted columns (filter/columns.ts) and values one of which every row `where` selects holds
   * (filter/sql.ts): the store then reads only the rows posted under them.
   */
  hints?: readonly PostingHint[];
}

export interface StoreStats {
  path: string;
  limitBytes: number;
  usedBytes: number;
  fileBytes: number;
  entries: number;
  evicted: number;
  droppedOnError: number;
  diskFull: boolean;
  lastError: string;
}

/** Evict when in-use bytes pass HIGH × limit, down to LOW × limit; the WAL takes the rest. */
const HIGH = 0.85;
const LOW = 0.75;
const EVICT_CHUNK = 5000;
const STATEMENT_CACHE = 64;
/** Rows in one group for the writer thread, at most (bounds its transaction and buffer). */
const GROUP_ROWS = 8000;

/**
 * The indexes: the columns whose `lookup` is "index" in filter/columns.ts (why those: see there):
 * ts, for the time-window scans (service map, HAR, PCAP).
 */
const INDEXED = COLUMNS.filter((c) => c.lookup === "index").map((c) => c.name);
/** The columns with postings, by position in COLUMNS. */
const POSTED = COLUMNS.flatMap((c, index) => (c.lookup === "postings" ? [{ name: c.name, index }] : []));
/**
 * Candidate rowids per query of a posted page: the first chunk is small (a page of an exact
 * filter is usually found in it), the next ones bigger.
 */
const PAGE_CHUNKS = [128, 512, 2048];
/**
 * The candidates of a chunk, as a JSON array bound as one parameter, joined to the entries by
 * rowid: SQLite seeks each in turn (NOT INDEXED: by rowid whatever ts bounds `where` has). ~12%
 * faster than `rowid IN (?, ?, …)`, which builds a temporary b-tree of the list first (33k
 * candidates, none matching: 24.6 vs 28.0 ms). The subquery exposes only `value` (json_each's
 * own columns include `path` and `id`, which `where` would find ambiguous).
 */
const CANDIDATES = "(SELECT value FROM json_each(?)) AS c JOIN entries NOT INDEXED ON entries.rowid = c.value";
/** scan() reads candidates from postings when there are at most this many, or fewer than the time window's rows. */
const SCAN_POSTINGS_SMALL = 4096;
/**
 * The file layout's version (PRAGMA user_version). A file of an older layout is emptied when
 * opened: the store is a bounded window of recent traffic, not an archive.
 */
const SCHEMA = 2;

export class EntryStore {
  readonly path: string;
  readonly limitBytes: number;
  private readonly db: Database.Database;
  private readonly insertStmt: Statement;
  private readonly getStmt: Statement;
  private readonly insertTx: (rows: NewRow[], out: boolean[], seqs: readonly SeqUpdate[], first: number) => void;
  private readonly seqStmt: Statement;
  private readonly cache = new Map<string, Statement>();
  private readonly pageSize: number;
  private entryCount: number;
  private evicted = 0;
  private droppedOnError = 0;
  private diskFull = false;
  private lastError = "";
  private bytesSinceCheck = 0;
  private analyzedAt = 0;
  private insertedSinceAnalyze = 0;
  private analyzing = false;
  /** The rowid the next row gets (rows are deleted oldest first, so postings stay sorted). */
  private nextRowid: number;
  private readonly postings = new Postings(POSTED);
  /** The first rowid of write()'s open transaction (a rollback unposts from there). */
  private openFirstRowid = 0;
  private readonly checkEveryBytes: number;
  private readonly txStmts: { begin: Statement; commit: Statement; rollback: Statement };
  /** What the open transaction of write() holds so far. */
  private open = { rows: 0, fresh: 0, bytes: 0, committed: [] as ((failed: boolean) => void)[] };
  private readonly writeRow: (row: NewRow, rowid: number) => boolean;
  /** The writer thread and the group being packed for it (file stores). */
  private readonly writer: StoreWriter | undefined;
  private readonly packer: RowPacker | undefined;
  private group = newGroup();
  private inFlightRows = 0;
  /** Write transactions committed (either connection): rows per transaction is entries / this. */
  transactions = 0;
  /** commit() was asked while a group was in flight: post the next one when it is answered. */
  private postWhenAnswered = false;
  /** Eviction/statistics found due after a thread's write, run outside its reply. */
  private maintenance: { force: boolean } | undefined;
  private maintenanceTimer: NodeJS.Immediate | undefined;

  constructor(options: StoreOptions) {
    if (!options.path) throw new Error("store: path is required (a file or ':memory:')");
    if (!Number.isFinite(options.limitBytes) || options.limitBytes < 1 << 20) {
      throw new Error(`store: limitBytes must be at least 1 MiB, got ${options.limitBytes}`);
    }
    this.path = options.path;
    this.limitBytes = options.limitBytes;
    this.db = new Database(options.path);
    this.db.pragma("journal_mode = WAL");
    this.pageSize = this.db.pragma("page_size", { simple: true }) as number;
    // The WAL is a twentieth of the limit (64 MiB at most): every checkpoint syncs the database
    // file, so a bigger WAL means fewer syncs per entry; it is truncated after each checkpoint.
    const walPages = Math.max(64, Math.min(16384, Math.floor(this.limitBytes / this.pageSize / 20)));
    // Index pages are touched all over by inserts: keep them in memory, an eighth of the limit
    // (256 MiB at most; taken only as pages are used). At 300k entries a 64 MiB cache cost 2.7 µs
    // per inserted entry more than 256 MiB (bench/hub); the default 500Mi limit gets 62.5 MiB.
    const pragmas = [
      "synchronous = NORMAL", "temp_store = MEMORY", "busy_timeout = 10000",
      `cache_size = -${Math.min(262144, Math.max(2048, Math.floor(this.limitBytes / 1024 / 8)))}`,
      `wal_autocheckpoint = ${walPages}`, `journal_size_limit = ${walPages * this.pageSize}`,
    ];
    for (const p of pragmas) this.db.pragma(p);
    this.checkEveryBytes = Math.max(64 << 10, Math.floor(this.limitBytes / 100));

    for (const c of COLUMNS) if (!/^[a-z_]+$/.test(c.name)) throw new Error(`store: bad column name ${c.name}`);
    if ((this.db.pragma("user_version", { simple: true }) as number) < SCHEMA) {
      this.db.exec("DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS entry_data; DROP TABLE IF EXISTS worker_seq");
      this.db.pragma(`user_version = ${SCHEMA}`);
    }
    const cols = COLUMNS.map((c) => `${c.name} ${c.sqlType} NOT NULL`).join(", ");
    this.db.exec(`CREATE TABLE IF NOT EXISTS entries (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, worker_id TEXT NOT NULL, ${cols})`);
    this.db.exec("CREATE TABLE IF NOT EXISTS entry_data (entry INTEGER PRIMARY KEY, data BLOB NOT NULL)");
    for (const c of INDEXED) this.db.exec(`CREATE INDEX IF NOT EXISTS entries_${c} ON entries(${c})`);
    // A file written by an older hub may carry indexes no longer chosen: each costs every insert.
    const existing = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND name LIKE 'entries\\_%' ESCAPE '\\'").pluck().all() as string[];
    for (const name of existing) if (!INDEXED.includes(name.slice("entries_".length))) this.db.exec(`DROP INDEX "${name.replace(/"/g, '""')}"`);
    this.db.exec("CREATE TABLE IF NOT EXISTS worker_seq (worker_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)");

    const names = ["rowid", "id", "worker_id", ...COLUMNS.map((c) => c.name)];
    const insertSql = `INSERT OR IGNORE INTO entries (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`;
    const dataSql = "INSERT INTO entry_data (entry, data) VALUES (?, ?)";
    const seqSql = "INSERT INTO worker_seq (worker_id, seq) VALUES (?, ?) ON CONFLICT(worker_id) DO UPDATE SET seq = max(seq, excluded.seq)";
    this.insertStmt = this.db.prepare(insertSql);
    const dataStmt = this.db.prepare(dataSql);
    this.getStmt = this.db.prepare("SELECT data FROM entry_data WHERE entry = (SELECT rowid FROM entries WHERE id = ?)").pluck();
    this.seqStmt = this.db.prepare(seqSql);
    const args: unknown[] = new Array(names.length);
    this.writeRow = (row: NewRow, rowid: number): boolean => {
      args[0] = rowid;
      args[1] = row.id;
      args[2] = row.workerId;
      for (let i = 0; i < row.columns.length; i++) args[3 + i] = row.columns[i];
      const fresh = this.insertStmt.run(args).changes === 1;
      if (fresh) dataStmt.run(rowid, row.data);
      return fresh;
    };
    this.txStmts = { begin: this.db.prepare("BEGIN"), commit: this.db.prepare("COMMIT"), rollback: this.db.prepare("ROLLBACK") };
    this.insertTx = this.db.transaction((rows: NewRow[], out: boolean[], seqs: readonly SeqUpdate[], first: number) => {
      for (let i = 0; i < rows.length; i++) out.push(this.writeRow(rows[i], first + i));
      // In the same transaction: a batch's seq is stored exactly when its entries are.
      for (const s of seqs) this.seqStmt.run(s.workerId, s.seq);
    });
    // entry_data too: a row of it left above the last entry would fail the insert of that rowid.
    this.nextRowid = 1 + Math.max(
      (this.db.prepare("SELECT max(rowid) FROM entries").pluck().get() as number | null) ?? 0,
      (this.db.prepare("SELECT max(entry) FROM entry_data").pluck().get() as number | null) ?? 0,
    );
    this.entryCount = this.rebuildPostings();
    // ANALYZE reads a bounded sample per index; with the statistics SQLite chooses between an
    // index and walking rowid DESC by how selective a value or range is (stat4 sees the bound value).
    pragmas.push("analysis_limit = 2000");
    this.db.pragma("analysis_limit = 2000");
    this.analyze();
    if (options.writerThread ?? options.path !== ":memory:") {
      const textValues = [false, true, true, ...COLUMNS.map((c) => c.sqlType === "TEXT")];
      this.writer = new StoreWriter({ path: options.path, pragmas, insertSql, dataSql, seqSql, textValues });
      this.packer = new RowPacker(textValues);
    }
  }

  /**
   * Reads the posted columns of every row (at open); returns the row count. 1M bench rows: ~1.4-1.9
   * s, two thirds of it better-sqlite3 making the strings (bench/hub/store.mjs --open-rows).
   */
  private rebuildPostings(): number {
    this.postings.clear();
    const cols = POSTED.map((c) => c.name).join(", ");
    const values: ColumnValue[] = new Array(COLUMNS.length).fill("");
    let rows = 0;
    for (const row of this.db.prepare(`SELECT rowid, ${cols} FROM entries ORDER BY rowid`).raw().iterate() as IterableIterator<unknown[]>) {
      for (let c = 0; c < POSTED.length; c++) values[POSTED[c].index] = row[1 + c] as ColumnValue;
      this.postings.add(row[0] as number, values);
      rows++;
    }
    return rows;
  }

  /**
   * Refreshes the planner's statistics (cheap: a bounded sample per index). With the writer
   * thread, ANALYZE runs there, queued behind the groups (its write would otherwise wait for
   * them, and the ingest for it), and this connection reloads the statistics when it is done.
   */
  analyze(): void {
    this.analyzedAt = this.entryCount;
    this.insertedSinceAnalyze = 0;
    if (this.writer && !this.writer.failed) {
      if (this.analyzing) return;
      this.analyzing = true;
      this.writer.analyze(() => {
        this.analyzing = false;
        if (!this.db.open) return;
        this.reloadStatistics();
        this.postWhenIdle();
      });
      return;
    }
    this.db.exec("ANALYZE");
    this.cache.clear(); // statements re-plan with the new statistics
  }

  /**
   * Statistics are refreshed when as many rows were inserted as the table held at the last
   * refresh (so: each doubling while it grows, once per turnover when it is full). Only ts has an
   * index to choose, but with stale ts statistics SQLite takes it for a range that covers most
   * rows (and sorts them all for `ORDER BY rowid DESC LIMIT n`).
   */
  private analyzeIfDue(): void {
    if (this.insertedSinceAnalyze >= Math.max(1000, this.analyzedAt)) this.analyze();
  }

  private reloadStatistics(): void {
    try {
      // Another connection's ANALYZE is seen only once the statistics are reloaded.
      this.db.exec("ANALYZE sqlite_schema");
    } catch (err) {
      this.lastError = (err as Error).message;
    }
    this.cache.clear();
  }

  /**
   * Inserts rows in one transaction, with the senders' batch seqs; returns, per row, whether it
   * was new (false: duplicate id, or lost to a failed write: see stats().droppedOnError).
   */
  insertBatch(rows: NewRow[], seqs: readonly SeqUpdate[] = []): boolean[] {
    this.drain(); // write()'s rows first: callers see their order kept
    const out: boolean[] = [];
    if (rows.length === 0 && seqs.length === 0) return out;
    const first = this.nextRowid;
    this.nextRowid += rows.length;
    try {
      this.insertTx(rows, out, seqs, first);
    } catch (err) {
      return this.settle(rows, out, err as Error);
    }
    for (let i = 0; i < rows.length; i++) if (out[i]) this.postings.add(first + i, rows[i].columns);
    return this.settle(rows, out, undefined);
  }

  /**
   * Adds rows and seqs to the group that commit() writes; `done` runs after that commit (or
   * failure) with, per row, whether it was new. With the writer thread the answer comes only then
   * and this returns undefined; without it the rows are written at once in the open transaction
   * (begun when none is), visible to this store's reads before the commit, and this returns the
   * answer too. A failed write or commit loses every row of the transaction: those count in
   * droppedOnError (and no longer in entries).
   */
  write(rows: NewRow[], seqs: readonly SeqUpdate[], done?: WriteDone): boolean[] | undefined {
    if (this.packer && !this.writer?.failed) {
      // Posted now, before the thread writes them: a query meanwhile finds them in postings but
      // not in the table (re-checked with SQL) until they are committed.
      const g = this.group;
      if (g.columns.length === 0) g.firstRowid = this.nextRowid;
      for (const r of rows) {
        const rowid = this.nextRowid++;
        this.packer.add(r, rowid);
        this.postings.add(rowid, r.columns);
        g.columns.push(r.columns);
      }
      for (const q of seqs) g.seqs.push(q.workerId, q.seq);
      g.parts.push({ count: rows.length, done });
      return undefined;
    }
    const out: boolean[] = new Array(rows.length);
    // Rolled back (failed): every row of the transaction is lost, whatever its insert said.
    if (done) this.open.committed.push((failed) => done(failed ? out.map(() => false) : out, failed));
    try {
      if (!this.db.inTransaction) {
        this.openFirstRowid = this.nextRowid;
        this.txStmts.begin.run();
      }
      for (let i = 0; i < rows.length; i++) {
        const rowid = this.nextRowid++;
        out[i] = this.writeRow(rows[i], rowid);
        if (out[i]) this.postings.add(rowid, rows[i].columns);
      }
      for (const s of seqs) this.seqStmt.run(s.workerId, s.seq);
    } catch (err) {
      out.fill(false);
      this.abort(err as Error, rows.length);
      return out;
    }
    let fresh = 0;
    for (const ok of out) if (ok) fresh++;
    this.open.rows += rows.length;
    this.open.fresh += fresh;
    for (const r of rows) this.open.bytes += r.data.length + 200;
    this.entryCount += fresh;
    this.insertedSinceAnalyze += fresh;
    return out;
  }

  /** Rows given to write() and not yet committed (or failed). */
  get uncommitted(): number {
    return this.open.rows + (this.packer?.count ?? 0) + this.inFlightRows;
  }

  /**
   * Commits write()'s rows: hands the group to the writer thread (its `done` callbacks run when
   * the thread answers; drain() waits for that), or commits the open transaction here and runs them.
   */
  commit(): void {
    if (this.packer && this.writer?.failed && this.group.parts.length > 0) this.dropGroup(this.packer, this.writer.failed);
    if (this.packer && this.writer && !this.writer.failed && (this.packer.count > 0 || this.group.parts.length > 0)) {
      // While the thread writes a group, the next one grows (up to GROUP_ROWS) instead of queueing
      // behind it: fewer, bigger transactions (a commit's cost is mostly its dirty index pages).
      if (this.writer.inFlight > 0 && this.packer.count < GROUP_ROWS) {
        this.postWhenAnswered = true;
        return;
      }
      this.postWhenAnswered = false;
      if (this.maintenance) this.maintain();
      this.postGroup(this.packer, this.writer);
      return;
    }
    if (!this.db.inTransaction) {
      this.runCommitted();
      return;
    }
    try {
      this.txStmts.commit.run();
    } catch (err) {
      this.abort(err as Error, 0);
      return;
    }
    const { bytes } = this.open;
    this.transactions++;
    this.open.rows = this.open.fresh = this.open.bytes = 0;
    this.diskFull = false;
    this.bytesSinceCheck += bytes;
    this.afterWrite();
    this.runCommitted();
  }

  private abort(err: Error, failedRows: number): void {
    if (this.db.inTransaction) {
      try {
        this.txStmts.rollback.run();
      } catch {
        // SQLite may have rolled back already (SQLITE_FULL, I/O errors).
      }
    }
    this.entryCount -= this.open.fresh;
    // Every row of the transaction is gone: the rowids it took are the last ones given.
    this.postings.removeRange(this.openFirstRowid, this.nextRowid);
    const lost = this.open.rows + failedRows;
    this.open.rows = this.open.fresh = this.open.bytes = 0;
    this.failed(err, lost);
    this.runCommitted(true);
  }

  private runCommitted(failed = false): void {
    const callbacks = this.open.committed;
    if (callbacks.length === 0) return;
    this.open.committed = [];
    for (const cb of callbacks) cb(failed);
  }

  /** Commits write()'s rows and waits until every group is written and its callbacks have run. */
  drain(): void {
    this.writer?.drain();
    this.commit();
    this.writer?.drain();
    if (this.maintenance) this.maintain();
  }

  private postGroup(packer: RowPacker, writer: StoreWriter): void {
    const bytesIn = packer.dataBytes;
    const { bytes, count } = packer.take();
    const { seqs, parts, columns, firstRowid } = this.group;
    this.group = newGroup();
    this.inFlightRows += count;
    writer.write(bytes, count, seqs, (reply: WriterReply) => {
      this.inFlightRows -= count;
      if (reply.bytes) packer.recycle(reply.bytes);
      let failed = false;
      if (reply.error) {
        failed = true;
        this.postings.removeRows(firstRowid, columns, undefined);
        this.failed(Object.assign(new Error(reply.error.message), { code: reply.error.code }), count, true);
      } else {
        this.transactions++;
        let fresh = 0;
        for (let i = 0; i < count; i++) fresh += reply.out[i];
        // Duplicate ids: their rowids hold nothing; unposted so that a resent batch costs no memory.
        if (fresh < count) this.postings.removeRows(firstRowid, columns, reply.out);
        this.entryCount += fresh;
        this.insertedSinceAnalyze += fresh;
        this.diskFull = false;
        this.bytesSinceCheck += bytesIn + 200 * count;
        if (this.bytesSinceCheck >= this.checkEveryBytes) this.scheduleMaintenance(false);
      }
      let at = 0;
      for (const part of parts) {
        if (part.done) {
          const inserted: boolean[] = new Array(part.count);
          for (let i = 0; i < part.count; i++) inserted[i] = reply.out[at + i] === 1;
          part.done(inserted, failed);
        }
        at += part.count;
      }
      this.postWhenIdle();
    });
  }

  /** A group that waited for the thread to be free is posted once it is (not inside a reply). */
  private postWhenIdle(): void {
    if (this.postWhenAnswered && this.writer?.inFlight === 0) setImmediate(() => { if (this.postWhenAnswered && this.db.open) this.commit(); });
  }

  /** Rows packed for a writer thread that died: answered as a failed write. */
  private dropGroup(packer: RowPacker, err: Error): void {
    const { count } = packer.take();
    const { parts, columns, firstRowid } = this.group;
    this.group = newGroup();
    this.postings.removeRows(firstRowid, columns, undefined);
    this.failed(err, count, true);
    for (const part of parts) part.done?.(new Array<boolean>(part.count).fill(false), true);
  }

  /** Eviction and statistics after a thread's write: not inside its reply (they drain the thread). */
  private scheduleMaintenance(force: boolean): void {
    this.maintenance = { force: force || (this.maintenance?.force ?? false) };
    this.maintenanceTimer ??= setImmediate(() => {
      this.maintenanceTimer = undefined;
      if (this.db.open) this.maintain();
    });
  }

  private maintain(): void {
    const m = this.maintenance;
    this.maintenance = undefined;
    if (!m) return;
    this.evictIfNeeded(m.force);
    this.analyzeIfDue();
  }

  /** What follows insertBatch's transaction: counts, eviction, statistics. */
  private settle(rows: NewRow[], out: boolean[], err: Error | undefined): boolean[] {
    if (err) {
      this.failed(err, rows.length);
      return rows.map(() => false);
    }
    this.diskFull = false;
    this.transactions++;
    let inserted = 0;
    for (const ok of out) if (ok) inserted++;
    this.entryCount += inserted;
    this.insertedSinceAnalyze += inserted;
    for (const r of rows) this.bytesSinceCheck += r.data.length + 200;
    this.afterWrite();
    return out;
  }

  private failed(err: Error, lost: number, deferEviction = false): void {
    // Disk full or I/O error: count the loss, report it in /api/health, make room, keep serving.
    // The flag tells the last write's outcome: eviction frees pages inside the file, not on a
    // full disk, so only a later successful insert clears it.
    this.diskFull = (err as { code?: string }).code === "SQLITE_FULL";
    this.lastError = err.message;
    this.droppedOnError += lost;
    if (deferEviction) this.scheduleMaintenance(true);
    else this.evictIfNeeded(true);
  }

  private afterWrite(): void {
    if (this.bytesSinceCheck >= this.checkEveryBytes) {
      this.evictIfNeeded(false);
      this.analyzeIfDue();
    }
  }

  get(id: string): Buffer | undefined {
    return this.getStmt.get(id) as Buffer | undefined;
  }

  /**
   * Newest first, rows with rowid < before (0: from the newest). The rowids are chosen first over
   * the narrow rows, then only the page's entries are read. With hints, the candidates are the
   * rowids posted under them, checked with `where` a chunk at a time; else SQLite walks rowid
   * DESC (or the ts index) itself.
   */
  page(filter: SqlFilter, before: number, limit: number): { rowid: number; data: Buffer }[] {
    const walk = filter.hints && this.postings.walk(filter.hints, before);
    if (walk) return this.pagePosted(filter, walk, limit);
    const sql = `SELECT p.rowid AS rowid, d.data AS data FROM (SELECT rowid FROM entries WHERE (${filter.where})${before > 0 ? " AND rowid < ?" : ""} ORDER BY rowid DESC LIMIT ?) AS p JOIN entry_data AS d ON d.entry = p.rowid ORDER BY p.rowid DESC`;
    const params = before > 0 ? [...filter.params, before, limit] : [...filter.params, limit];
    return this.statement(sql).all(params) as { rowid: number; data: Buffer }[];
  }

  private pagePosted(filter: SqlFilter, walk: CandidateWalk, limit: number): { rowid: number; data: Buffer }[] {
    const out: { rowid: number; data: Buffer }[] = [];
    const ids: number[] = [];
    const sql = `SELECT p.rowid AS rowid, d.data AS data FROM (SELECT entries.rowid AS rowid FROM ${CANDIDATES} WHERE (${filter.where})) AS p JOIN entry_data AS d ON d.entry = p.rowid ORDER BY p.rowid DESC`;
    const stmt = this.statement(sql);
    for (let round = 0; out.length < limit; round++) {
      const size = PAGE_CHUNKS[Math.min(round, PAGE_CHUNKS.length - 1)];
      ids.length = size;
      const n = walk.take(ids, size);
      if (n === 0) break;
      ids.length = n;
      for (const row of stmt.all(JSON.stringify(ids), ...filter.params) as { rowid: number; data: Buffer }[]) {
        out.push(row);
        if (out.length === limit) break;
      }
      if (n < size) break;
    }
    return out;
  }

  /** Iterates the selected columns of matching rows with ts (µs) in [sinceUs, untilUs), oldest first. */
  *scan<T>(columns: string, filter: SqlFilter, sinceUs: number, untilUs: number): IterableIterator<T> {
    // `data` (the encoded entry) comes from entry_data; the other columns are the entries table's.
    const join = /\bdata\b/.test(columns) ? " JOIN entry_data ON entry_data.entry = entries.rowid" : "";
    const walk = filter.hints && this.postings.walk(filter.hints, 0);
    // Postings when they name fewer rows than the time window holds (counted up to that many on
    // the ts index), else the ts index.
    if (walk && (walk.estimate <= SCAN_POSTINGS_SMALL || this.windowRows(sinceUs, untilUs, walk.estimate) >= walk.estimate)) {
      yield* this.scanPosted<T>(columns, join, filter, walk, sinceUs, untilUs);
      return;
    }
    const sql = `SELECT ${columns} FROM entries${join} WHERE (${filter.where}) AND ts >= ? AND ts < ? ORDER BY entries.rowid`;
    yield* this.statement(sql).iterate([...filter.params, sinceUs, untilUs]) as IterableIterator<T>;
  }

  /** Rows with ts in [sinceUs, untilUs), counted up to `max`. */
  private windowRows(sinceUs: number, untilUs: number, max: number): number {
    return this.statement("SELECT count(*) FROM (SELECT 1 FROM entries WHERE ts >= ? AND ts < ? LIMIT ?)").pluck().get(sinceUs, untilUs, max) as number;
  }

  private *scanPosted<T>(columns: string, join: string, filter: SqlFilter, walk: CandidateWalk, sinceUs: number, untilUs: number): IterableIterator<T> {
    // The walk goes newest first and the scan oldest first: take all candidates, then go up.
    const ids: number[] = [];
    for (let n = 0; ; ) {
      ids.length = n + 4096;
      const got = walk.take(ids, 4096, n);
      n += got;
      ids.length = n;
      if (got < 4096) break;
    }
    const size = PAGE_CHUNKS[PAGE_CHUNKS.length - 1];
    const stmt = this.statement(`SELECT ${columns} FROM ${CANDIDATES}${join} WHERE (${filter.where}) AND ts >= ? AND ts < ? ORDER BY entries.rowid`);
    const chunk: number[] = [];
    for (let hi = ids.length; hi > 0; hi -= size) {
      chunk.length = 0;
      for (let i = hi - 1; i >= Math.max(0, hi - size); i--) chunk.push(ids[i]);
      yield* stmt.all(JSON.stringify(chunk), ...filter.params, sinceUs, untilUs) as T[];
    }
  }

  lastSeq(workerId: string): number {
    return (this.statement("SELECT seq FROM worker_seq WHERE worker_id = ?").pluck().get(workerId) as number | undefined) ?? 0;
  }

  setLastSeq(workerId: string, seq: number): void {
    this.drain();
    this.seqStmt.run(workerId, seq);
  }

  usedBytes(): number {
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * this.pageSize;
  }

  /** Bytes on disk: database file plus WAL (the in-use pages for ":memory:"). */
  fileBytes(): number {
    if (this.path === ":memory:") return this.usedBytes();
    return fileSize(this.path) + fileSize(`${this.path}-wal`);
  }

  stats(): StoreStats {
    return {
      path: this.path, limitBytes: this.limitBytes, usedBytes: this.usedBytes(), fileBytes: this.fileBytes(),
      entries: this.entryCount, evicted: this.evicted, droppedOnError: this.droppedOnError,
      diskFull: this.diskFull, lastError: this.lastError,
    };
  }

  /** Deletes the oldest rows while usage is above the high mark (or at all, when `force`). */
  evictIfNeeded(force: boolean): void {
    this.bytesSinceCheck = 0;
    // The check reads the committed pages without waiting for the thread (it ran every hundredth
    // of the limit and stalled the ingest each time); the groups in flight count at the next one.
    let used = this.usedBytes();
    if (!force && used <= this.limitBytes * HIGH) return;
    this.writer?.drain();
    used = this.usedBytes();
    const target = this.limitBytes * LOW;
    // The n oldest rows are those up to the n-th smallest rowid; their data goes with them.
    const cut = this.statement("SELECT rowid FROM entries ORDER BY rowid LIMIT 1 OFFSET ?").pluck();
    const newest = this.statement("SELECT max(rowid) FROM entries").pluck();
    const delRows = this.statement("DELETE FROM entries WHERE rowid <= ?");
    const delData = this.statement("DELETE FROM entry_data WHERE entry <= ?");
    let last = 0;
    const del = this.db.transaction((n: number): number => {
      // All of them: up to the newest stored row, not beyond (rows packed for the thread are posted).
      last = (cut.get(n - 1) as number | undefined) ?? (newest.get() as number | null) ?? 0;
      delData.run(last);
      return delRows.run(last).changes;
    });
    while ((used > target || force) && this.entryCount > 0) {
      const perEntry = used / Math.max(1, this.entryCount);
      // Forced (the disk is full): free a tenth of the rows whatever the page count says.
      const n = force
        ? Math.min(EVICT_CHUNK, Math.max(1, Math.ceil(this.entryCount / 10)))
        : Math.max(1, Math.min(EVICT_CHUNK, Math.ceil((used - target) / perEntry)));
      try {
        const removed = del(n);
        this.postings.trimBelow(last + 1); // once committed: a failed delete keeps its rows
        this.entryCount -= removed;
        this.evicted += removed;
      } catch (err) {
        this.lastError = (err as Error).message;
        return;
      }
      used = this.usedBytes();
      force = false;
    }
    // An eviction is a big transaction that grows the WAL past its usual size: fold it back
    // into the database and truncate it, so the file plus WAL stay within the limit.
    // On a full disk the checkpoint itself can fail: that must not escape into the ingest (it
    // closed the worker's connection as a bad message; found by test/robustness/faults.test.ts).
    if (this.path !== ":memory:") {
      try {
        this.db.pragma("wal_checkpoint(TRUNCATE)");
      } catch (err) {
        this.lastError = (err as Error).message;
      }
    }
  }

  private statement(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      if (this.cache.size >= STATEMENT_CACHE) this.cache.delete(this.cache.keys().next().value as string);
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  close(): void {
    if (this.maintenanceTimer) clearImmediate(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    if (this.db.open) this.drain();
    this.writer?.close();
    if (this.db.open) this.db.close();
  }
}

/** The rows packed for the writer thread and not posted to it yet. */
function newGroup() {
  return {
    seqs: [] as (string | number)[],
    parts: [] as { count: number; done?: WriteDone }[],
    /** Per row, its column values (to unpost it if it turns out a duplicate or is lost). */
    columns: [] as ColumnValue[][],
    /** The rows have consecutive rowids from this one. */
    firstRowid: 0,
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
