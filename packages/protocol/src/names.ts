// Names of the protocol and status enums as the CLI, hub and UI print and parse them. Apart
// from json.ts (which re-exports them) so the table summary loads without the protobuf module.
import { EntryStatus, Protocol } from "./gen/enums.js";

const protocolNames: Record<number, string> = {
  [Protocol.HTTP]: "http",
  [Protocol.HTTP2]: "http2",
  [Protocol.GRPC]: "grpc",
  [Protocol.REDIS]: "redis",
  [Protocol.KAFKA]: "kafka",
  [Protocol.DNS]: "dns",
  [Protocol.TCP]: "tcp",
};

/** Lower-case protocol name as used in filters and the UI ("http", "redis", ...). */
export function protocolName(protocol: Protocol | null | undefined): string {
  return protocolNames[protocol ?? 0] ?? "unknown";
}

export function parseProtocolName(name: string): Protocol | undefined {
  const lower = name.toLowerCase();
  for (const [value, n] of Object.entries(protocolNames)) if (n === lower) return Number(value) as Protocol;
  return undefined;
}

export function statusName(status: EntryStatus | null | undefined): string {
  return EntryStatus[status ?? 0] ?? "ENTRY_STATUS_UNSPECIFIED";
}
