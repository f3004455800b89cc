// The protobuf JSON mapping of an Entry (camelCase fields, enum names, bytes as base64),
// used by `tapline dissect --format jsonl`, the hub's HTTP API and the UI.
import { tapline } from "./gen/tapline.js";
import type { EntryInit } from "./schema.js";

export { protocolName, parseProtocolName, statusName } from "./names.js";

const toObjectOptions = { enums: String, longs: Number, bytes: String, json: true } as const;

export function entryToJson(entry: EntryInit): Record<string, unknown> {
  const message = entry instanceof tapline.v1.Entry ? entry : tapline.v1.Entry.fromObject(entry);
  return tapline.v1.Entry.toObject(message, toObjectOptions);
}

/** Inverse of entryToJson; unknown fields are ignored, bad field types throw a TypeError. */
export function entryFromJson(json: Record<string, unknown>): tapline.v1.Entry {
  return tapline.v1.Entry.fromObject(json);
}

