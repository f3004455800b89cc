export { tapline } from "./gen/tapline.js";
export {
  SCHEMA_VERSION,
  Protocol,
  EntryStatus,
  RedisKind,
  Entry,
  EntryBatch,
  WorkerHello,
  WorkerStats,
  WorkerMessage,
  HubMessage,
  TapConfig,
  PcapRequest,
  PcapChunk,
  ServiceMap,
  ServiceMapEdge,
  ServiceMapNode,
} from "./schema.js";
export type {
  EntryInit,
  EndpointInit,
  HeaderInit,
  BodyInit,
  HttpRequestInit,
  HttpResponseInit,
  RedisRequestInit,
  RedisResponseInit,
  RedisValueInit,
  KafkaRequestInit,
  KafkaResponseInit,
  KafkaTopicInit,
  KafkaPartitionInit,
  KafkaRecordInit,
  DnsRequestInit,
  DnsResponseInit,
  GrpcInfoInit,
  WorkerStatsInit,
  TapConfigInit,
  FlowKeyInit,
  ServiceMapEdgeInit,
  ServiceMapNodeInit,
} from "./schema.js";
export { entryToJson, entryFromJson, protocolName, statusName, parseProtocolName } from "./json.js";
export { entryJsonLine, jsonlStats } from "./jsonl.js";
export { summarizeEntry } from "./summary.js";
export type { EntrySummary } from "./summary.js";
