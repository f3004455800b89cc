// One line per entry, the same in the CLI table, the hub's service map and the UI.
// Needs only the enums (`@tapline/protocol/summary` loads without the protobuf module).
import { EntryStatus, RedisKind } from "./gen/enums.js";
import { protocolName, statusName } from "./names.js";
import type { EntryInit, KafkaResponseInit } from "./schema.js";

export interface EntrySummary {
  protocol: string;
  /** HTTP method, Redis command, Kafka API name and version, DNS query type. */
  method: string;
  /** HTTP path, Redis key, Kafka topic(s), DNS name. */
  target: string;
  /** HTTP status, Redis reply kind, Kafka error name, DNS rcode, or the transport outcome. */
  status: string;
  /** Counts as an error on the service map: 5xx, gRPC status != 0, Redis error, Kafka/DNS error, no response. */
  isError: boolean;
}

const S = EntryStatus;

export function summarizeEntry(entry: EntryInit): EntrySummary {
  const protocol = protocolName(entry.protocol);
  const transportFailed = entry.status != null && entry.status !== S.COMPLETE && entry.status !== S.ENTRY_STATUS_UNSPECIFIED;
  const fallbackStatus = transportFailed ? statusName(entry.status) : "";
  if (entry.httpRequest || entry.httpResponse) {
    const code = entry.httpResponse?.status ?? 0;
    const grpcStatus = entry.grpc && entry.grpc.status != null && entry.grpc.status >= 0 ? entry.grpc.status : undefined;
    const method = entry.grpc?.method ? `${entry.grpc.service ?? ""}/${entry.grpc.method}` : entry.httpRequest?.method ?? "";
    return {
      protocol,
      method,
      target: entry.httpRequest?.path ?? "",
      status: grpcStatus !== undefined ? `grpc ${grpcStatus}` : code ? String(code) : fallbackStatus,
      isError: code >= 500 || (grpcStatus !== undefined && grpcStatus !== 0) || transportFailed,
    };
  }
  if (entry.redisRequest || entry.redisResponse) {
    const reply = entry.redisResponse;
    const kind = reply?.value?.kind != null ? RedisKind[reply.value.kind] ?? "" : "";
    return {
      protocol,
      method: entry.redisRequest?.command ?? "",
      target: entry.redisRequest?.key ?? "",
      status: reply ? (reply.error ? (reply.value?.text ?? "ERR").split(" ")[0] : kind) : fallbackStatus,
      isError: !!reply?.error || transportFailed,
    };
  }
  if (entry.kafkaRequest || entry.kafkaResponse) {
    const req = entry.kafkaRequest;
    const res = entry.kafkaResponse;
    const topics = [...new Set((req?.topics ?? res?.topics ?? []).map((t) => t.name ?? ""))].filter(Boolean);
    const errorName = res?.errorName || firstPartitionError(res);
    return {
      protocol,
      method: req ? `${req.apiName ?? `api${req.apiKey}`} v${req.apiVersion ?? 0}` : "",
      target: topics.join(",") || req?.groupId || "",
      status: res ? errorName || "OK" : fallbackStatus,
      isError: !!errorName || transportFailed,
    };
  }
  if (entry.dnsRequest || entry.dnsResponse) {
    const q = entry.dnsRequest?.questions?.[0];
    const rcode = entry.dnsResponse?.rcode ?? "";
    return {
      protocol,
      method: q?.type ?? "",
      target: q?.name ?? "",
      status: rcode || fallbackStatus,
      isError: (rcode !== "" && rcode !== "NOERROR") || transportFailed,
    };
  }
  return { protocol, method: "", target: "", status: fallbackStatus, isError: transportFailed };
}

function firstPartitionError(res: KafkaResponseInit | null | undefined): string {
  for (const t of res?.topics ?? []) {
    if (t.errorName) return t.errorName;
    for (const p of t.partitions ?? []) if (p.errorName) return p.errorName;
  }
  return "";
}
