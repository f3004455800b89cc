// Short names for the generated classes and their plain-object shapes.
// `XInit` is the properties interface (every field optional), what producers build;
// the class `X` is what decode() returns (defaults filled in).
import { tapline } from "./gen/tapline.js";

const v1 = tapline.v1;

export { SCHEMA_VERSION } from "./version.js";

export const Protocol = v1.Protocol;
export type Protocol = tapline.v1.Protocol;
export const EntryStatus = v1.EntryStatus;
export type EntryStatus = tapline.v1.EntryStatus;
export const RedisKind = v1.RedisValue.Kind;
export type RedisKind = tapline.v1.RedisValue.Kind;

export const Entry = v1.Entry;
export type Entry = tapline.v1.Entry;
export const EntryBatch = v1.EntryBatch;
export type EntryBatch = tapline.v1.EntryBatch;
export const WorkerHello = v1.WorkerHello;
export type WorkerHello = tapline.v1.WorkerHello;
export const WorkerStats = v1.WorkerStats;
export type WorkerStats = tapline.v1.WorkerStats;
export const WorkerMessage = v1.WorkerMessage;
export type WorkerMessage = tapline.v1.WorkerMessage;
export const HubMessage = v1.HubMessage;
export type HubMessage = tapline.v1.HubMessage;
export const TapConfig = v1.TapConfig;
export type TapConfig = tapline.v1.TapConfig;
export const PcapRequest = v1.PcapRequest;
export type PcapRequest = tapline.v1.PcapRequest;
export const PcapChunk = v1.PcapChunk;
export type PcapChunk = tapline.v1.PcapChunk;
export const ServiceMap = v1.ServiceMap;
export type ServiceMap = tapline.v1.ServiceMap;
export const ServiceMapEdge = v1.ServiceMapEdge;
export type ServiceMapEdge = tapline.v1.ServiceMapEdge;
export const ServiceMapNode = v1.ServiceMapNode;
export type ServiceMapNode = tapline.v1.ServiceMapNode;

export type EntryInit = tapline.v1.IEntry;
export type EndpointInit = tapline.v1.IEndpoint;
export type HeaderInit = tapline.v1.IHeader;
export type BodyInit = tapline.v1.IBody;
export type HttpRequestInit = tapline.v1.IHttpRequest;
export type HttpResponseInit = tapline.v1.IHttpResponse;
export type RedisRequestInit = tapline.v1.IRedisRequest;
export type RedisResponseInit = tapline.v1.IRedisResponse;
export type RedisValueInit = tapline.v1.IRedisValue;
export type KafkaRequestInit = tapline.v1.IKafkaRequest;
export type KafkaResponseInit = tapline.v1.IKafkaResponse;
export type KafkaTopicInit = tapline.v1.IKafkaTopic;
export type KafkaPartitionInit = tapline.v1.IKafkaPartition;
export type KafkaRecordInit = tapline.v1.IKafkaRecord;
export type DnsRequestInit = tapline.v1.IDnsRequest;
export type DnsResponseInit = tapline.v1.IDnsResponse;
export type GrpcInfoInit = tapline.v1.IGrpcInfo;
export type WorkerStatsInit = tapline.v1.IWorkerStats;
export type TapConfigInit = tapline.v1.ITapConfig;
export type FlowKeyInit = tapline.v1.IFlowKey;
export type ServiceMapEdgeInit = tapline.v1.IServiceMapEdge;
export type ServiceMapNodeInit = tapline.v1.IServiceMapNode;
