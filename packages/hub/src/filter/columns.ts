// The columns of the entries table: the contract between storage (src/store), which creates
// and fills them, and the filter compiler (src/filter), which turns filter expressions into
// SQL over them (and says which rows a query can start from: filter/sql.ts's hints). The full
// entry is stored as protobuf beside them.
import { protocolName, statusName, summarizeEntry } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";

export interface ColumnDef {
  name: string;
  sqlType: "TEXT" | "INTEGER" | "REAL";
  /**
   * How rows are found by this column's value, besides walking rowid DESC:
   * - index: a SQLite index (ts: the time-window scans of the service map, HAR and PCAP).
   * - postings: the store keeps value -> rowids in memory (store/postings.ts), for equality
   *   fields whose rare values would otherwise mean a full scan. They were SQLite indexes, which
   *   cost the store's writer thread ~0.7 µs per entry each (bench/hub/store.mjs: 10.1 µs per
   *   entry with them, 5.9 with ts only; the file 648 -> 454 bytes per entry); a posting is an
   *   append on the main thread.
   * - none: a common value (a tenth of the traffic) is found by walking rowid DESC within a few
   *   thousand rows, and SQLite's planner does not pick a range index (status_code, elapsed_ms)
   *   for `ORDER BY rowid DESC LIMIT n` even for rare ranges, so those were pure cost.
   */
  lookup: "index" | "postings" | "none";
}

export const COLUMNS: readonly ColumnDef[] = [
  { name: "ts", sqlType: "INTEGER", lookup: "index" }, // timestamp_ns / 1000 (µs), fits SQLite's int64 exactly
  { name: "protocol", sqlType: "TEXT", lookup: "none" }, // protocolName(): http, http2, grpc, redis, kafka, dns, tcp
  { name: "src_ip", sqlType: "TEXT", lookup: "none" },
  { name: "src_port", sqlType: "INTEGER", lookup: "none" },
  { name: "src_pod", sqlType: "TEXT", lookup: "postings" },
  { name: "src_namespace", sqlType: "TEXT", lookup: "postings" },
  { name: "src_service", sqlType: "TEXT", lookup: "none" },
  { name: "dst_ip", sqlType: "TEXT", lookup: "none" },
  { name: "dst_port", sqlType: "INTEGER", lookup: "none" },
  { name: "dst_pod", sqlType: "TEXT", lookup: "postings" },
  { name: "dst_namespace", sqlType: "TEXT", lookup: "postings" },
  { name: "dst_service", sqlType: "TEXT", lookup: "postings" },
  { name: "method", sqlType: "TEXT", lookup: "postings" }, // summarizeEntry().method: HTTP method, Redis command, Kafka "Produce v9", DNS qtype
  { name: "path", sqlType: "TEXT", lookup: "none" }, // summarizeEntry().target: HTTP path, Redis key, Kafka topics, DNS name
  { name: "status_code", sqlType: "INTEGER", lookup: "none" }, // HTTP status (0 when none)
  { name: "entry_status", sqlType: "TEXT", lookup: "none" }, // statusName(): COMPLETE, NO_RESPONSE, ...
  { name: "is_error", sqlType: "INTEGER", lookup: "none" }, // summarizeEntry().isError
  { name: "elapsed_ms", sqlType: "REAL", lookup: "none" },
  { name: "tls", sqlType: "INTEGER", lookup: "none" },
  { name: "size", sqlType: "INTEGER", lookup: "none" }, // request_size + response_size
  { name: "node", sqlType: "TEXT", lookup: "none" },
];

export type ColumnValue = string | number;

/** Position of a column in COLUMNS (and in columnValues' result). */
export function columnIndex(name: string): number {
  const i = COLUMNS.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`no column ${name}`);
  return i;
}

/** The column values of an entry, in COLUMNS order. */
export function columnValues(entry: EntryInit): ColumnValue[] {
  const s = summarizeEntry(entry);
  const src = entry.src ?? {};
  const dst = entry.dst ?? {};
  return [
    Math.floor((entry.timestampNs ?? 0) / 1000),
    protocolName(entry.protocol),
    src.ip ?? "",
    src.port ?? 0,
    src.pod ?? "",
    src.namespace ?? "",
    src.service ?? "",
    dst.ip ?? "",
    dst.port ?? 0,
    dst.pod ?? "",
    dst.namespace ?? "",
    dst.service ?? "",
    s.method,
    s.target,
    entry.httpResponse?.status ?? 0,
    statusName(entry.status),
    s.isError ? 1 : 0,
    entry.elapsedMs ?? 0,
    entry.tls ? 1 : 0,
    (entry.requestSize ?? 0) + (entry.responseSize ?? 0),
    entry.node ?? "",
  ];
}
