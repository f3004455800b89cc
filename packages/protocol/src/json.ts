// The protobuf JSON mapping of an Entry (camelCase fields, enum names, bytes as base64),
// used by `tapline dissect --format jsonl`, the hub's HTTP API and the UI.
import { tapline } from "./gen/tapline.js";
import type { EntryInit } from "./schema.js";

const toObjectOptions = { enums: String, longs: Number, bytes: String, json: true } as const;

export function entryToJson(entry: EntryInit): Record<string, unknown> {
  const message = entry instanceof tapline.v1.Entry ? entry : tapline.v1.Entry.fromObject(entry);
  return tapline.v1.Entry.toObject(message, toObjectOptions);
}

/** Inverse of entryToJson; unknown fields are ignored, bad field types throw a TypeError. */
export function entryFromJson(json: Record<string, unknown>): tapline.v1.Entry {
  return tapline.v1.Entry.fromObject(json);
}

const protocolNames: Record<number, string> = {
  [tapline.v1.Protocol.HTTP]: "http",
  [tapline.v1.Protocol.HTTP2]: "http2",
  [tapline.v1.Protocol.GRPC]: "grpc",
  [tapline.v1.Protocol.REDIS]: "redis",
  [tapline.v1.Protocol.KAFKA]: "kafka",
  [tapline.v1.Protocol.DNS]: "dns",
  [tapline.v1.Protocol.TCP]: "tcp",
};

/** Lower-case protocol name as used in filters and the UI ("http", "redis", ...). */
export function protocolName(protocol: tapline.v1.Protocol | null | undefined): string {
  return protocolNames[protocol ?? 0] ?? "unknown";
}

export function parseProtocolName(name: string): tapline.v1.Protocol | undefined {
  const lower = name.toLowerCase();
  for (const [value, n] of Object.entries(protocolNames)) if (n === lower) return Number(value) as tapline.v1.Protocol;
  return undefined;
}

export function statusName(status: tapline.v1.EntryStatus | null | undefined): string {
  return tapline.v1.EntryStatus[status ?? 0] ?? "ENTRY_STATUS_UNSPECIFIED";
}
