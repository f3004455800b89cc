// Request and response bodies, read in grammar order. Field lists follow the protocol guide
// (https://kafka.apache.org/protocol#protocol_messages) and the message JSON definitions;
// `vN+` marks the version a field appears in. `flex` = KIP-482 compact encodings + tagged fields.
import type { KafkaPartitionInit, KafkaRequestInit, KafkaResponseInit, KafkaTopicInit } from "@tapline/protocol";
import { ApiKey, errorName } from "./apis.js";
import { readRecordSet, warnOnce, type MessageScratch } from "./records.js";
import type { Reader } from "./wire.js";

/** The state one body reader works with. */
export interface BodyCtx extends MessageScratch {
  r: Reader;
  v: number;
  flex: boolean;
}

type RequestReader = (c: BodyCtx, req: KafkaRequestInit) => void;
type ResponseReader = (c: BodyCtx, res: KafkaResponseInit) => void;

function keep(c: BodyCtx): boolean {
  if (c.items <= 0) return false;
  c.items--;
  return true;
}

/** Topic name; v13+ of Produce/Fetch (KIP-516) send a topic id instead, shown as "id:<hex>". */
function topicName(c: BodyCtx, idFromVersion = Infinity): string {
  return c.v >= idFromVersion ? `id:${c.r.uuid()}` : (c.r.str(c.flex) ?? "");
}

/** ARRAY of topics, each read by `body` into a KafkaTopicInit (kept while the items budget lasts). */
function topics(c: BodyCtx, out: KafkaTopicInit[], body: (t: KafkaTopicInit) => void, idFromVersion = Infinity): void {
  const n = c.r.arrayLen(c.flex);
  for (let i = 0; i < n && c.r.ok; i++) {
    const t: KafkaTopicInit = { name: topicName(c, idFromVersion), partitions: [] };
    body(t);
    c.r.tags(c.flex);
    if (keep(c)) out.push(t);
  }
}

/** ARRAY of partitions inside a topic. */
function partitions(c: BodyCtx, t: KafkaTopicInit, body: (p: KafkaPartitionInit) => void): void {
  const n = c.r.arrayLen(c.flex);
  for (let i = 0; i < n && c.r.ok; i++) {
    const p: KafkaPartitionInit = { index: c.r.i32() };
    body(p);
    c.r.tags(c.flex);
    if (keep(c)) t.partitions!.push(p);
  }
}

/** The usual topics[name partitions[index ...]] nesting, `body` reading one partition's fields after its index. */
function topicPartitions(c: BodyCtx, out: KafkaTopicInit[], body: (p: KafkaPartitionInit) => void, idFromVersion = Infinity): void {
  topics(c, out, (t) => partitions(c, t, body), idFromVersion);
}

function setError(target: { errorCode?: number | null; errorName?: string | null }, code: number): void {
  if (code === 0) return;
  target.errorCode = code;
  target.errorName = errorName(code);
}

/** RECORDS (nullable BYTES) into a partition: count, size and the first records. */
function records(c: BodyCtx, p: KafkaPartitionInit): void {
  const n = c.r.bytesLen(c.flex);
  if (n <= 0) return;
  const start = c.r.pos;
  const set = readRecordSet(c.r.buf, start, start + n, c);
  c.r.pos = start + n;
  p.recordCount = set.count;
  p.recordsSize = n;
  if (set.records.length > 0) p.records = set.records;
}

function int32Array(c: BodyCtx): void {
  const n = c.r.arrayLen(c.flex, 4);
  if (n > 0) c.r.skip(4 * n);
}

// Produce: v3+ transactional_id acks:INT16 timeout_ms:INT32
//   topic_data[name|topic_id(v13+) partition_data[index:INT32 records:RECORDS]]
const produceRequest: RequestReader = (c, req) => {
  const r = c.r;
  if (c.v >= 3) req.transactionalId = r.str(c.flex) ?? "";
  req.acks = r.i16();
  r.i32();
  topicPartitions(c, (req.topics = []), (p) => records(c, p), 13);
};

// responses[name partitions[index error_code base_offset log_append_time(v2+) log_start_offset(v5+)
//   record_errors(v8+) error_message(v8+)]] throttle_time_ms(v1+)
const produceResponse: ResponseReader = (c, res) => {
  const r = c.r;
  topicPartitions(
    c,
    (res.topics = []),
    (p) => {
      setError(p, r.i16());
      p.offset = r.i64();
      if (c.v >= 2) r.i64();
      if (c.v >= 5) r.i64();
      if (c.v >= 8) {
        const n = r.arrayLen(c.flex, 4);
        for (let i = 0; i < n && r.ok; i++) {
          r.i32();
          r.skipStr(c.flex);
          r.tags(c.flex);
        }
        r.skipStr(c.flex);
      }
    },
    13,
  );
  if (c.v >= 1) res.throttleTimeMs = r.i32();
};

// Fetch: replica_id(v0-14) max_wait_ms min_bytes max_bytes(v3+) isolation_level(v4+) session_id+epoch(v7+)
//   topics[topic|topic_id(v13+) partitions[partition current_leader_epoch(v9+) fetch_offset
//   last_fetched_epoch(v12+) log_start_offset(v5+) partition_max_bytes]] ...
const fetchRequest: RequestReader = (c, req) => {
  const r = c.r;
  if (c.v <= 14) r.i32();
  r.skip(8);
  if (c.v >= 3) r.i32();
  if (c.v >= 4) r.i8();
  if (c.v >= 7) r.skip(8);
  topicPartitions(
    c,
    (req.topics = []),
    (p) => {
      if (c.v >= 9) r.i32();
      p.offset = r.i64();
      if (c.v >= 12) r.i32();
      if (c.v >= 5) r.i64();
      r.i32();
    },
    13,
  );
};

// throttle_time_ms(v1+) error_code+session_id(v7+) responses[topic|topic_id(v13+) partitions[index
//   error_code high_watermark last_stable_offset(v4+) log_start_offset(v5+) aborted_transactions(v4+)
//   preferred_read_replica(v11+) records]]
const fetchResponse: ResponseReader = (c, res) => {
  const r = c.r;
  if (c.v >= 1) res.throttleTimeMs = r.i32();
  if (c.v >= 7) {
    setError(res, r.i16());
    r.i32();
  }
  topicPartitions(
    c,
    (res.topics = []),
    (p) => {
      setError(p, r.i16());
      p.offset = r.i64();
      if (c.v >= 4) r.i64();
      if (c.v >= 5) r.i64();
      if (c.v >= 4) {
        const n = r.arrayLen(c.flex, 16);
        for (let i = 0; i < n && r.ok; i++) {
          r.skip(16);
          r.tags(c.flex);
        }
      }
      if (c.v >= 11) r.i32();
      records(c, p);
    },
    13,
  );
};

// Metadata: topics(nullable v1+)[topic_id(v10+) name] allow_auto_topic_creation(v4+) ...
const metadataRequest: RequestReader = (c, req) => {
  const r = c.r;
  const n = r.arrayLen(c.flex);
  req.topics = [];
  for (let i = 0; i < n && r.ok; i++) {
    if (c.v >= 10) r.uuid();
    const name = r.str(c.flex) ?? "";
    r.tags(c.flex);
    if (keep(c)) req.topics.push({ name });
  }
  if (n < 0) req.summary = "all topics";
};

// throttle_time_ms(v3+) brokers[node_id host port rack(v1+)] cluster_id(v2+) controller_id(v1+)
//   topics[error_code name topic_id(v10+) is_internal(v1+) partitions[error_code partition_index
//   leader_id leader_epoch(v7+) replica_nodes isr_nodes offline_replicas(v5+)] authorized_ops(v8+)]
const metadataResponse: ResponseReader = (c, res) => {
  const r = c.r;
  if (c.v >= 3) res.throttleTimeMs = r.i32();
  const nb = r.arrayLen(c.flex, 10);
  res.brokers = [];
  for (let i = 0; i < nb && r.ok; i++) {
    const nodeId = r.i32();
    const host = r.str(c.flex) ?? "";
    const port = r.i32();
    if (c.v >= 1) r.skipStr(c.flex);
    r.tags(c.flex);
    if (keep(c)) res.brokers.push({ nodeId, host, port });
  }
  if (c.v >= 2) r.skipStr(c.flex);
  if (c.v >= 1) r.i32();
  const nt = r.arrayLen(c.flex);
  res.topics = [];
  for (let i = 0; i < nt && r.ok; i++) {
    const code = r.i16();
    const t: KafkaTopicInit = { name: r.str(c.flex) ?? "", partitions: [] };
    setError(t, code);
    if (c.v >= 10) r.uuid();
    if (c.v >= 1) r.i8();
    partitions2(c, t);
    if (c.v >= 8) r.i32();
    r.tags(c.flex);
    if (keep(c)) res.topics.push(t);
  }
};

/** Metadata partitions put error_code before partition_index, unlike the others. */
function partitions2(c: BodyCtx, t: KafkaTopicInit): void {
  const r = c.r;
  const n = r.arrayLen(c.flex);
  for (let i = 0; i < n && r.ok; i++) {
    const code = r.i16();
    const p: KafkaPartitionInit = { index: r.i32() };
    setError(p, code);
    r.i32();
    if (c.v >= 7) r.i32();
    int32Array(c);
    int32Array(c);
    if (c.v >= 5) int32Array(c);
    r.tags(c.flex);
    if (keep(c)) t.partitions!.push(p);
  }
}

// ApiVersions: client_software_name client_software_version (v3+, KIP-511)
const apiVersionsRequest: RequestReader = (c, req) => {
  if (c.v < 3) return;
  const name = c.r.str(true);
  const version = c.r.str(true);
  if (name) req.summary = `${name} ${version ?? ""}`.trim();
};

// error_code api_keys[api_key min_version max_version] throttle_time_ms(v1+)
// KIP-511: a broker that does not support the requested version answers UNSUPPORTED_VERSION in
// the v0 layout, so that layout is tried first then; the layout that consumes the whole body wins.
const apiVersionsResponse: ResponseReader = (c, res) => {
  const r = c.r;
  const start = r.pos;
  const unsupported = r.end - start >= 2 && r.buf.readInt16BE(start) === 35;
  const versions = unsupported && c.v > 0 ? [0, c.v] : [c.v, 0];
  for (const v of versions) {
    r.ok = true;
    r.pos = start;
    const attempt: KafkaResponseInit = {};
    readApiVersions({ ...c, v, flex: c.flex && v === c.v }, attempt);
    if (r.ok && r.pos === r.end) return void Object.assign(res, attempt);
  }
  r.ok = true;
  r.pos = start;
  setError(res, r.i16());
  warnOnce(c, "ApiVersions response in neither the requested nor the v0 layout");
};

function readApiVersions(c: BodyCtx, res: KafkaResponseInit): void {
  const r = c.r;
  setError(res, r.i16());
  const n = r.arrayLen(c.flex, 6);
  res.apiVersions = [];
  for (let i = 0; i < n && r.ok; i++) {
    const apiKey = r.i16();
    const minVersion = r.i16();
    const maxVersion = r.i16();
    r.tags(c.flex);
    // not capped by maxItems: the list is bounded by the number of api keys and is what users look for
    res.apiVersions.push({ apiKey, minVersion, maxVersion });
  }
  if (c.v >= 1) res.throttleTimeMs = r.i32();
}

// FindCoordinator: key(v0-3) key_type(v1+) coordinator_keys(v4+)
const findCoordinatorRequest: RequestReader = (c, req) => {
  const r = c.r;
  if (c.v <= 3) {
    req.groupId = r.str(c.flex) ?? "";
    if (c.v >= 1) r.i8();
    return;
  }
  r.i8();
  const n = r.arrayLen(c.flex);
  const keys: string[] = [];
  for (let i = 0; i < n && r.ok; i++) {
    const k = r.str(c.flex) ?? "";
    if (keys.length < c.limits.maxItems) keys.push(k);
  }
  req.groupId = keys.join(",");
};

// v0: error_code node_id host port; v1-3: throttle_time_ms error_code error_message node_id host port;
// v4+: throttle_time_ms coordinators[key node_id host port error_code error_message]
const findCoordinatorResponse: ResponseReader = (c, res) => {
  const r = c.r;
  res.brokers = [];
  if (c.v >= 1) res.throttleTimeMs = r.i32();
  if (c.v <= 3) {
    setError(res, r.i16());
    if (c.v >= 1) r.skipStr(c.flex);
    res.brokers.push({ nodeId: r.i32(), host: r.str(c.flex) ?? "", port: r.i32() });
    return;
  }
  const n = r.arrayLen(c.flex);
  for (let i = 0; i < n && r.ok; i++) {
    r.skipStr(c.flex);
    const broker = { nodeId: r.i32(), host: r.str(c.flex) ?? "", port: r.i32() };
    const code = r.i16();
    if (res.errorCode == null) setError(res, code);
    r.skipStr(c.flex);
    r.tags(c.flex);
    if (keep(c)) res.brokers.push(broker);
  }
};

// JoinGroup: group_id session_timeout_ms rebalance_timeout_ms(v1+) member_id group_instance_id(v5+)
//   protocol_type protocols[name metadata]
const joinGroupRequest: RequestReader = (c, req) => {
  const r = c.r;
  req.groupId = r.str(c.flex) ?? "";
  r.i32();
  if (c.v >= 1) r.i32();
  req.memberId = r.str(c.flex) ?? "";
  if (c.v >= 5) r.skipStr(c.flex);
  const type = r.str(c.flex) ?? "";
  const n = r.arrayLen(c.flex);
  const names: string[] = [];
  for (let i = 0; i < n && r.ok; i++) {
    const name = r.str(c.flex) ?? "";
    r.skipBytes(c.flex);
    r.tags(c.flex);
    if (names.length < c.limits.maxItems) names.push(name);
  }
  req.summary = `${type}: ${names.join(",")}`;
};

// throttle_time_ms(v2+) error_code generation_id protocol_type(v7+) protocol_name leader
//   skip_assignment(v9+) member_id members[...]
const joinGroupResponse: ResponseReader = (c, res) => {
  const r = c.r;
  if (c.v >= 2) res.throttleTimeMs = r.i32();
  setError(res, r.i16());
  const generation = r.i32();
  if (c.v >= 7) r.skipStr(c.flex);
  const protocol = r.str(c.flex) ?? "";
  const leader = r.str(c.flex) ?? "";
  if (c.v >= 9) r.i8();
  const member = r.str(c.flex) ?? "";
  res.summary = `generation ${generation} protocol ${protocol} member ${member}${leader === member ? " (leader)" : ""}`;
};

// Heartbeat / SyncGroup: group_id generation_id member_id group_instance_id(v3+) ...
const groupMemberRequest: RequestReader = (c, req) => {
  req.groupId = c.r.str(c.flex) ?? "";
  const generation = c.r.i32();
  req.memberId = c.r.str(c.flex) ?? "";
  req.summary = `generation ${generation}`;
};

// LeaveGroup: group_id member_id(v0-2) members(v3+)[member_id ...]
const leaveGroupRequest: RequestReader = (c, req) => {
  req.groupId = c.r.str(c.flex) ?? "";
  if (c.v <= 2) req.memberId = c.r.str(c.flex) ?? "";
};

// Heartbeat, SyncGroup, LeaveGroup responses: throttle_time_ms(v1+) error_code ...
const throttleThenError: ResponseReader = (c, res) => {
  if (c.v >= 1) res.throttleTimeMs = c.r.i32();
  setError(res, c.r.i16());
};

// OffsetCommit: group_id generation_id(v1+) member_id(v1+) group_instance_id(v7+) retention_time_ms(v2-4)
//   topics[name partitions[partition_index committed_offset committed_leader_epoch(v6+)
//   commit_timestamp(v1) committed_metadata]]
const offsetCommitRequest: RequestReader = (c, req) => {
  const r = c.r;
  req.groupId = r.str(c.flex) ?? "";
  if (c.v >= 1) {
    r.i32();
    req.memberId = r.str(c.flex) ?? "";
  }
  if (c.v >= 7) r.skipStr(c.flex);
  if (c.v >= 2 && c.v <= 4) r.i64();
  topicPartitions(c, (req.topics = []), (p) => {
    p.offset = r.i64();
    if (c.v >= 6) r.i32();
    if (c.v === 1) r.i64();
    r.skipStr(c.flex);
  });
};

// throttle_time_ms(v3+) topics[name partitions[partition_index error_code]]
const offsetCommitResponse: ResponseReader = (c, res) => {
  if (c.v >= 3) res.throttleTimeMs = c.r.i32();
  topicPartitions(c, (res.topics = []), (p) => setError(p, c.r.i16()));
};

// OffsetFetch v0-7: group_id topics(nullable v2+)[name partition_indexes[INT32]] require_stable(v7+)
// v8+: groups[group_id member_id(v9+) member_epoch(v9+) topics[name partition_indexes]] require_stable
const offsetFetchRequest: RequestReader = (c, req) => {
  const r = c.r;
  const fetchTopics = (): void => {
    const n = r.arrayLen(c.flex);
    for (let i = 0; i < n && r.ok; i++) {
      const t: KafkaTopicInit = { name: r.str(c.flex) ?? "", partitions: [] };
      const np = r.arrayLen(c.flex, 4);
      for (let j = 0; j < np && r.ok; j++) {
        const index = r.i32();
        if (keep(c)) t.partitions!.push({ index });
      }
      r.tags(c.flex);
      if (keep(c)) req.topics!.push(t);
    }
  };
  req.topics = [];
  if (c.v <= 7) {
    req.groupId = r.str(c.flex) ?? "";
    fetchTopics();
    return;
  }
  const groups: string[] = [];
  const ng = r.arrayLen(c.flex);
  for (let i = 0; i < ng && r.ok; i++) {
    groups.push(r.str(c.flex) ?? "");
    if (c.v >= 9) {
      r.skipStr(c.flex);
      r.i32();
    }
    fetchTopics();
    r.tags(c.flex);
  }
  req.groupId = groups.slice(0, c.limits.maxItems).join(",");
};

// v0-7: throttle_time_ms(v3+) topics[name partitions[partition_index committed_offset
//   committed_leader_epoch(v5+) metadata error_code]] error_code(v2+)
// v8+: throttle_time_ms groups[group_id topics[...same partitions...] error_code]
const offsetFetchResponse: ResponseReader = (c, res) => {
  const r = c.r;
  if (c.v >= 3) res.throttleTimeMs = r.i32();
  const groupTopics = (): void =>
    topicPartitions(c, res.topics!, (p) => {
      p.offset = r.i64();
      if (c.v >= 5) r.i32();
      r.skipStr(c.flex);
      setError(p, r.i16());
    });
  res.topics = [];
  if (c.v <= 7) {
    groupTopics();
    if (c.v >= 2) setError(res, r.i16());
    return;
  }
  const ng = r.arrayLen(c.flex);
  for (let i = 0; i < ng && r.ok; i++) {
    r.skipStr(c.flex);
    groupTopics();
    const code = r.i16();
    if (res.errorCode == null) setError(res, code);
    r.tags(c.flex);
  }
};

// ListOffsets: replica_id isolation_level(v2+) topics[name partitions[partition_index
//   current_leader_epoch(v4+) timestamp max_num_offsets(v0)]]
const listOffsetsRequest: RequestReader = (c, req) => {
  const r = c.r;
  r.i32();
  if (c.v >= 2) r.i8();
  topicPartitions(c, (req.topics = []), (p) => {
    if (c.v >= 4) r.i32();
    p.offset = r.i64(); // the timestamp asked for: -1 latest, -2 earliest
    if (c.v === 0) r.i32();
  });
};

// throttle_time_ms(v2+) topics[name partitions[partition_index error_code old_style_offsets(v0)
//   timestamp(v1+) offset(v1+) leader_epoch(v4+)]]
const listOffsetsResponse: ResponseReader = (c, res) => {
  const r = c.r;
  if (c.v >= 2) res.throttleTimeMs = r.i32();
  topicPartitions(c, (res.topics = []), (p) => {
    setError(p, r.i16());
    if (c.v === 0) {
      const n = r.arrayLen(false, 8);
      for (let i = 0; i < n && r.ok; i++) {
        const o = r.i64();
        if (i === 0) p.offset = o;
      }
      return;
    }
    r.i64();
    p.offset = r.i64();
    if (c.v >= 4) r.i32();
  });
};

// SaslHandshake: mechanism -> error_code mechanisms[STRING]
const saslHandshakeRequest: RequestReader = (c, req) => {
  req.saslMechanism = c.r.str(false) ?? "";
};

const saslHandshakeResponse: ResponseReader = (c, res) => {
  setError(res, c.r.i16());
  const n = c.r.arrayLen(false, 2);
  const names: string[] = [];
  for (let i = 0; i < n && c.r.ok; i++) names.push(c.r.str(false) ?? "");
  res.summary = `mechanisms ${names.slice(0, c.limits.maxItems).join(",")}`;
};

// SaslAuthenticate: auth_bytes -> error_code error_message auth_bytes session_lifetime_ms(v1+).
// The bytes are kept (capped) for the hub, which redacts sasl_auth before storage.
const saslAuthenticateRequest: RequestReader = (c, req) => {
  const n = c.r.bytesLen(c.flex);
  if (n < 0) return;
  req.saslAuth = Buffer.from(c.r.buf.subarray(c.r.pos, c.r.pos + Math.min(n, c.limits.maxBodyBytes)));
  c.r.pos += n;
};

const saslAuthenticateResponse: ResponseReader = (c, res) => {
  setError(res, c.r.i16());
  const msg = c.r.str(c.flex);
  if (msg) res.summary = msg;
};

export const requestReaders: ReadonlyMap<number, RequestReader> = new Map<number, RequestReader>([
  [ApiKey.Produce, produceRequest],
  [ApiKey.Fetch, fetchRequest],
  [ApiKey.ListOffsets, listOffsetsRequest],
  [ApiKey.Metadata, metadataRequest],
  [ApiKey.OffsetCommit, offsetCommitRequest],
  [ApiKey.OffsetFetch, offsetFetchRequest],
  [ApiKey.FindCoordinator, findCoordinatorRequest],
  [ApiKey.JoinGroup, joinGroupRequest],
  [ApiKey.Heartbeat, groupMemberRequest],
  [ApiKey.LeaveGroup, leaveGroupRequest],
  [ApiKey.SyncGroup, groupMemberRequest],
  [ApiKey.SaslHandshake, saslHandshakeRequest],
  [ApiKey.ApiVersions, apiVersionsRequest],
  [ApiKey.SaslAuthenticate, saslAuthenticateRequest],
]);

export const responseReaders: ReadonlyMap<number, ResponseReader> = new Map<number, ResponseReader>([
  [ApiKey.Produce, produceResponse],
  [ApiKey.Fetch, fetchResponse],
  [ApiKey.ListOffsets, listOffsetsResponse],
  [ApiKey.Metadata, metadataResponse],
  [ApiKey.OffsetCommit, offsetCommitResponse],
  [ApiKey.OffsetFetch, offsetFetchResponse],
  [ApiKey.FindCoordinator, findCoordinatorResponse],
  [ApiKey.JoinGroup, joinGroupResponse],
  [ApiKey.Heartbeat, throttleThenError],
  [ApiKey.LeaveGroup, throttleThenError],
  [ApiKey.SyncGroup, throttleThenError],
  [ApiKey.SaslHandshake, saslHandshakeResponse],
  [ApiKey.ApiVersions, apiVersionsResponse],
  [ApiKey.SaslAuthenticate, saslAuthenticateResponse],
]);
