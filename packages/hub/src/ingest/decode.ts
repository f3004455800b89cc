// Entry.decode yields Long objects for uint64 fields when the `long` package is loadable, while
// the generated types (and filter/columns.ts) treat them as numbers. The hub decodes through here
// so that the fields it indexes, filters and serves are plain numbers (exact below 2^53; the
// nanosecond timestamps lose sub-256 ns precision, as the schema notes).
import { Entry } from "@tapline/protocol";
import type { BodyInit } from "@tapline/protocol";

type MaybeLong = number | { toNumber(): number };

function num(v: MaybeLong | null | undefined): number {
  return typeof v === "object" && v !== null ? v.toNumber() : (v ?? 0);
}

function body(b: BodyInit | null | undefined): void {
  if (!b) return;
  b.size = num(b.size as MaybeLong);
  b.decodedSize = num(b.decodedSize as MaybeLong);
}

export function decodeEntry(bytes: Uint8Array): Entry {
  return normalizeLongs(Entry.decode(bytes));
}

/** In place: the uint64 fields the hub reads become numbers. */
export function normalizeLongs(e: Entry): Entry {
  e.timestampNs = num(e.timestampNs as MaybeLong);
  e.requestSize = num(e.requestSize as MaybeLong);
  e.responseSize = num(e.responseSize as MaybeLong);
  e.responseTimestampNs = num(e.responseTimestampNs as MaybeLong);
  body(e.httpRequest?.body);
  body(e.httpResponse?.body);
  return e;
}
