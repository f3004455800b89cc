// The indexed columns of the entries table: the contract between storage (src/store),
// which creates and fills them, and the filter compiler (src/filter), which turns
// filter expressions into SQL over them. The full entry is stored as protobuf beside them.
import { protocolName, statusName, summarizeEntry } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";

export interface ColumnDef {
  name: string;
  sqlType: "TEXT" | "INTEGER" | "REAL";
  /**
   * The store creates an index on it. Each index costs about 2 µs of CPU per stored entry
   * (bench/hub), so only equality fields whose rare values would otherwise mean a full scan
   * are indexed: a common value (a tenth of the traffic) is found by walking rowid DESC within
   * a few thousand rows, and SQLite's planner does not pick a range index (status_code,
   * elapsed_ms) for `ORDER BY rowid DESC LIMIT n` even for rare ranges, so those were pure cost.
   */
  indexed: boolean;
}

export const COLUMNS: readonly ColumnDef[] = [
  { name: "ts", sqlType: "INTEGER", indexed: true }, // timestamp_ns / 1000 (µs), fits SQLite's int64 exactly
  { name: "protocol", sqlType: "TEXT", indexed: false }, // protocolName(): http, http2, grpc, redis, kafka, dns, tcp
  { name: "src_ip", sqlType: "TEXT", indexed: false },
  { name: "src_port", sqlType: "INTEGER", indexed: false },
  { name: "src_pod", sqlType: "TEXT", indexed: true },
  { name: "src_namespace", sqlType: "TEXT", indexed: true },
  { name: "src_service", sqlType: "TEXT", indexed: false },
  { name: "dst_ip", sqlType: "TEXT", indexed: false },
  { name: "dst_port", sqlType: "INTEGER", indexed: false },
  { name: "dst_pod", sqlType: "TEXT", indexed: true },
  { name: "dst_namespace", sqlType: "TEXT", indexed: true },
  { name: "dst_service", sqlType: "TEXT", indexed: true },
  { name: "method", sqlType: "TEXT", indexed: true }, // summarizeEntry().method: HTTP method, Redis command, Kafka "Produce v9", DNS qtype
  { name: "path", sqlType: "TEXT", indexed: false }, // summarizeEntry().target: HTTP path, Redis key, Kafka topics, DNS name
  { name: "status_code", sqlType: "INTEGER", indexed: false }, // HTTP status (0 when none)
  { name: "entry_status", sqlType: "TEXT", indexed: false }, // statusName(): COMPLETE, NO_RESPONSE, ...
  { name: "is_error", sqlType: "INTEGER", indexed: false }, // summarizeEntry().isError
  { name: "elapsed_ms", sqlType: "REAL", indexed: false },
  { name: "tls", sqlType: "INTEGER", indexed: false },
  { name: "size", sqlType: "INTEGER", indexed: false }, // request_size + response_size
  { name: "node", sqlType: "TEXT", indexed: false },
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
