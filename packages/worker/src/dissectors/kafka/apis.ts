// API keys and error codes of the Kafka protocol.
// Source: https://kafka.apache.org/protocol#protocol_api_keys and the message definitions in
// apache/kafka clients/src/main/resources/common/message/*.json ("flexibleVersions").
// KIP-482 (https://cwiki.apache.org/confluence/x/OhMyBw): from an API's first flexible version
// on, the request uses header v2 and the response header v1 (both end in tagged fields), and
// strings/arrays/bytes in the body are "compact" (unsigned varint length + 1).

/** [name, first flexible version (-1: never flexible)] indexed by api key. */
const API_TABLE: readonly (readonly [string, number])[] = [
  ["Produce", 9], // 0
  ["Fetch", 12],
  ["ListOffsets", 6],
  ["Metadata", 9],
  ["LeaderAndIsr", 4],
  ["StopReplica", 2], // 5
  ["UpdateMetadata", 6],
  ["ControlledShutdown", 3],
  ["OffsetCommit", 8],
  ["OffsetFetch", 6],
  ["FindCoordinator", 3], // 10
  ["JoinGroup", 6],
  ["Heartbeat", 4],
  ["LeaveGroup", 4],
  ["SyncGroup", 4],
  ["DescribeGroups", 5], // 15
  ["ListGroups", 3],
  ["SaslHandshake", -1],
  ["ApiVersions", 3],
  ["CreateTopics", 5],
  ["DeleteTopics", 4], // 20
  ["DeleteRecords", 2],
  ["InitProducerId", 2],
  ["OffsetForLeaderEpoch", 4],
  ["AddPartitionsToTxn", 3],
  ["AddOffsetsToTxn", 3], // 25
  ["EndTxn", 3],
  ["WriteTxnMarkers", 1],
  ["TxnOffsetCommit", 3],
  ["DescribeAcls", 2],
  ["CreateAcls", 2], // 30
  ["DeleteAcls", 2],
  ["DescribeConfigs", 4],
  ["AlterConfigs", 2],
  ["AlterReplicaLogDirs", 2],
  ["DescribeLogDirs", 2], // 35
  ["SaslAuthenticate", 2],
  ["CreatePartitions", 2],
  ["CreateDelegationToken", 2],
  ["RenewDelegationToken", 2],
  ["ExpireDelegationToken", 2], // 40
  ["DescribeDelegationToken", 2],
  ["DeleteGroups", 2],
  ["ElectLeaders", 2],
  ["IncrementalAlterConfigs", 1],
  ["AlterPartitionReassignments", 0], // 45
  ["ListPartitionReassignments", 0],
  ["OffsetDelete", -1],
  ["DescribeClientQuotas", 1],
  ["AlterClientQuotas", 1],
  ["DescribeUserScramCredentials", 0], // 50
  ["AlterUserScramCredentials", 0],
  ["Vote", 0],
  ["BeginQuorumEpoch", 1],
  ["EndQuorumEpoch", 1],
  ["DescribeQuorum", 0], // 55
  ["AlterPartition", 0],
  ["UpdateFeatures", 0],
  ["Envelope", 0],
  ["FetchSnapshot", 0],
  ["DescribeCluster", 0], // 60
  ["DescribeProducers", 0],
  ["BrokerRegistration", 0],
  ["BrokerHeartbeat", 0],
  ["UnregisterBroker", 0],
  ["DescribeTransactions", 0], // 65
  ["ListTransactions", 0],
  ["AllocateProducerIds", 0],
  ["ConsumerGroupHeartbeat", 0],
  ["ConsumerGroupDescribe", 0],
  ["ControllerRegistration", 0], // 70
  ["GetTelemetrySubscriptions", 0],
  ["PushTelemetry", 0],
  ["AssignReplicasToDirs", 0],
  ["ListClientMetricsResources", 0],
  ["DescribeTopicPartitions", 0], // 75
  ["ShareGroupHeartbeat", 0],
  ["ShareGroupDescribe", 0],
  ["ShareFetch", 0],
  ["ShareAcknowledge", 0],
  ["AddRaftVoter", 0], // 80
  ["RemoveRaftVoter", 0],
  ["UpdateRaftVoter", 0],
  ["InitializeShareGroupState", 0],
  ["ReadShareGroupState", 0],
  ["WriteShareGroupState", 0], // 85
  ["DeleteShareGroupState", 0],
  ["ReadShareGroupStateSummary", 0],
  ["StreamsGroupHeartbeat", 0],
  ["StreamsGroupDescribe", 0],
  ["DescribeShareGroupOffsets", 0], // 90
  ["AlterShareGroupOffsets", 0],
  ["DeleteShareGroupOffsets", 0],
];

export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  ControlledShutdown: 7,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  SaslHandshake: 17,
  ApiVersions: 18,
  SaslAuthenticate: 36,
} as const;

export const MAX_API_KEY = API_TABLE.length - 1;
/** The newest version of any API is 17 (Fetch) as of Kafka 4.1; leave room for growth, reject nonsense. */
export const MAX_PLAUSIBLE_VERSION = 31;

export function apiName(key: number): string {
  return API_TABLE[key]?.[0] ?? `Unknown(${key})`;
}

/** True when `version` of `key` is a KIP-482 flexible version (compact encodings, tagged fields). */
export function isFlexible(key: number, version: number): boolean {
  const first = API_TABLE[key]?.[1] ?? -1;
  return first >= 0 && version >= first;
}

/**
 * Request header version: v2 for flexible versions, else v1. ControlledShutdown v0 is the one
 * request that uses header v0 (no client_id), per the protocol guide.
 */
export function requestHeaderVersion(key: number, version: number): 0 | 1 | 2 {
  if (key === ApiKey.ControlledShutdown && version === 0) return 0;
  return isFlexible(key, version) ? 2 : 1;
}

/**
 * Response header version: v1 (with tagged fields) for flexible versions, else v0. ApiVersions
 * always answers with header v0 so that a client can parse it before knowing what the broker
 * supports (KIP-511).
 */
export function responseHeaderVersion(key: number, version: number): 0 | 1 {
  if (key === ApiKey.ApiVersions) return 0;
  return isFlexible(key, version) ? 1 : 0;
}

// https://kafka.apache.org/protocol#protocol_error_codes, index = code (0 = NONE).
const ERRORS: readonly string[] = [
  "NONE", "OFFSET_OUT_OF_RANGE", "CORRUPT_MESSAGE", "UNKNOWN_TOPIC_OR_PARTITION", "INVALID_FETCH_SIZE",
  "LEADER_NOT_AVAILABLE", "NOT_LEADER_OR_FOLLOWER", "REQUEST_TIMED_OUT", "BROKER_NOT_AVAILABLE",
  "REPLICA_NOT_AVAILABLE", "MESSAGE_TOO_LARGE", "STALE_CONTROLLER_EPOCH", "OFFSET_METADATA_TOO_LARGE",
  "NETWORK_EXCEPTION", "COORDINATOR_LOAD_IN_PROGRESS", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR",
  "INVALID_TOPIC_EXCEPTION", "RECORD_LIST_TOO_LARGE", "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "INVALID_REQUIRED_ACKS", "ILLEGAL_GENERATION", "INCONSISTENT_GROUP_PROTOCOL", "INVALID_GROUP_ID",
  "UNKNOWN_MEMBER_ID", "INVALID_SESSION_TIMEOUT", "REBALANCE_IN_PROGRESS", "INVALID_COMMIT_OFFSET_SIZE",
  "TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED", "INVALID_TIMESTAMP",
  "UNSUPPORTED_SASL_MECHANISM", "ILLEGAL_SASL_STATE", "UNSUPPORTED_VERSION", "TOPIC_ALREADY_EXISTS",
  "INVALID_PARTITIONS", "INVALID_REPLICATION_FACTOR", "INVALID_REPLICA_ASSIGNMENT", "INVALID_CONFIG",
  "NOT_CONTROLLER", "INVALID_REQUEST", "UNSUPPORTED_FOR_MESSAGE_FORMAT", "POLICY_VIOLATION",
  "OUT_OF_ORDER_SEQUENCE_NUMBER", "DUPLICATE_SEQUENCE_NUMBER", "INVALID_PRODUCER_EPOCH", "INVALID_TXN_STATE",
  "INVALID_PRODUCER_ID_MAPPING", "INVALID_TRANSACTION_TIMEOUT", "CONCURRENT_TRANSACTIONS",
  "TRANSACTION_COORDINATOR_FENCED", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "SECURITY_DISABLED",
  "OPERATION_NOT_ATTEMPTED", "KAFKA_STORAGE_ERROR", "LOG_DIR_NOT_FOUND", "SASL_AUTHENTICATION_FAILED",
  "UNKNOWN_PRODUCER_ID", "REASSIGNMENT_IN_PROGRESS", "DELEGATION_TOKEN_AUTH_DISABLED", "DELEGATION_TOKEN_NOT_FOUND",
  "DELEGATION_TOKEN_OWNER_MISMATCH", "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
  "DELEGATION_TOKEN_EXPIRED", "INVALID_PRINCIPAL_TYPE", "NON_EMPTY_GROUP", "GROUP_ID_NOT_FOUND",
  "FETCH_SESSION_ID_NOT_FOUND", "INVALID_FETCH_SESSION_EPOCH", "LISTENER_NOT_FOUND", "TOPIC_DELETION_DISABLED",
  "FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH", "UNSUPPORTED_COMPRESSION_TYPE", "STALE_BROKER_EPOCH",
  "OFFSET_NOT_AVAILABLE", "MEMBER_ID_REQUIRED", "PREFERRED_LEADER_NOT_AVAILABLE", "GROUP_MAX_SIZE_REACHED",
  "FENCED_INSTANCE_ID", "ELIGIBLE_LEADERS_NOT_AVAILABLE", "ELECTION_NOT_NEEDED", "NO_REASSIGNMENT_IN_PROGRESS",
  "GROUP_SUBSCRIBED_TO_TOPIC", "INVALID_RECORD", "UNSTABLE_OFFSET_COMMIT", "THROTTLING_QUOTA_EXCEEDED",
  "PRODUCER_FENCED", "RESOURCE_NOT_FOUND", "DUPLICATE_RESOURCE", "UNACCEPTABLE_CREDENTIAL",
  "INCONSISTENT_VOTER_SET", "INVALID_UPDATE_VERSION", "FEATURE_UPDATE_FAILED", "PRINCIPAL_DESERIALIZATION_FAILURE",
  "SNAPSHOT_NOT_FOUND", "POSITION_OUT_OF_RANGE", "UNKNOWN_TOPIC_ID", "DUPLICATE_BROKER_REGISTRATION",
  "BROKER_ID_NOT_REGISTERED", "INCONSISTENT_TOPIC_ID", "INCONSISTENT_CLUSTER_ID", "TRANSACTIONAL_ID_NOT_FOUND",
  "FETCH_SESSION_TOPIC_ID_ERROR", "INELIGIBLE_REPLICA", "NEW_LEADER_ELECTED", "OFFSET_MOVED_TO_TIERED_STORAGE",
  "FENCED_MEMBER_EPOCH", "UNRELEASED_INSTANCE_ID", "UNSUPPORTED_ASSIGNOR", "STALE_MEMBER_EPOCH",
  "MISMATCHED_ENDPOINT_TYPE", "UNSUPPORTED_ENDPOINT_TYPE", "UNKNOWN_CONTROLLER_ID", "UNKNOWN_SUBSCRIPTION_ID",
  "TELEMETRY_TOO_LARGE", "INVALID_REGISTRATION",
];

/** "" for 0 (no error), so an error name is present only when there is an error. */
export function errorName(code: number): string {
  if (code === 0) return "";
  if (code === -1) return "UNKNOWN_SERVER_ERROR";
  return ERRORS[code] ?? `ERROR_${code}`;
}
