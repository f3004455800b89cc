// The Kubernetes protobuf encoding, only as far as request bodies need it: kubectl's typed
// clients (e.g. `kubectl auth can-i`) POST `application/vnd.kubernetes.protobuf`. A body is
// the magic "k8s\0" followed by a runtime.Unknown message
// (k8s.io/apimachinery/pkg/runtime/generated.proto):
//   Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; }
//   TypeMeta { string apiVersion = 1; string kind = 2; }
// and `raw` is the object's own message. Only the kinds laid out below are decoded (kubectl's
// imperative `create namespace|configmap|secret|serviceaccount|role|...` and `auth can-i`).
import { badRequest, KubeError } from "./status.js";

export const PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Fields = Map<number, (Buffer | number)[]>;

/** Reads one message's fields: varints as numbers, length-delimited as Buffers (views). */
function readFields(b: Buffer): Fields {
  const out: Fields = new Map();
  let off = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (off >= b.length) throw badRequest("protobuf: truncated varint");
      const byte = b[off++];
      v += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return v;
      mul *= 128;
    }
    throw badRequest("protobuf: varint too long");
  };
  while (off < b.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let v: Buffer | number;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const len = varint();
      if (off + len > b.length) throw badRequest("protobuf: truncated field");
      v = b.subarray(off, off + len);
      off += len;
    } else if (wire === 1) {
      off += 8;
      continue;
    } else if (wire === 5) {
      off += 4;
      continue;
    } else throw badRequest(`protobuf: unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(v);
    out.set(field, list);
  }
  return out;
}

function str(f: Fields, n: number): string | undefined {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString("utf8") : undefined;
}

function msg(f: Fields, n: number): Fields | undefined {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? readFields(v) : undefined;
}

// Message layouts: field number -> [JSON name, type]. Types: "string", "bool", "int", "bytes"
// (base64 in JSON), "time" (metav1.Time: seconds = 1), "map" (map<string,string>), "bytesmap"
// (map<string,bytes>), a message name, or any of these with "[]" for repeated. Numbers are
// those of the generated.proto files in k8s.io/api and k8s.io/apimachinery.
type FieldType = string;
const MESSAGES: Record<string, Record<number, [string, FieldType]>> = {
  ObjectMeta: {
    1: ["name", "string"],
    2: ["generateName", "string"],
    3: ["namespace", "string"],
    5: ["uid", "string"],
    6: ["resourceVersion", "string"],
    7: ["generation", "int"],
    11: ["labels", "map"],
    12: ["annotations", "map"],
    13: ["ownerReferences", "OwnerReference[]"],
    14: ["finalizers", "string[]"],
  },
  OwnerReference: { 1: ["kind", "string"], 3: ["name", "string"], 4: ["uid", "string"], 5: ["apiVersion", "string"], 6: ["controller", "bool"], 7: ["blockOwnerDeletion", "bool"] },
  Namespace: { 1: ["metadata", "ObjectMeta"], 2: ["spec", "NamespaceSpec"] },
  NamespaceSpec: { 1: ["finalizers", "string[]"] },
  ConfigMap: { 1: ["metadata", "ObjectMeta"], 2: ["data", "map"], 3: ["binaryData", "bytesmap"], 4: ["immutable", "bool"] },
  Secret: { 1: ["metadata", "ObjectMeta"], 2: ["data", "bytesmap"], 3: ["type", "string"], 4: ["stringData", "map"], 5: ["immutable", "bool"] },
  ServiceAccount: { 1: ["metadata", "ObjectMeta"], 2: ["secrets", "ObjectReference[]"], 3: ["imagePullSecrets", "LocalObjectReference[]"], 4: ["automountServiceAccountToken", "bool"] },
  ObjectReference: { 1: ["kind", "string"], 2: ["namespace", "string"], 3: ["name", "string"], 4: ["uid", "string"], 5: ["apiVersion", "string"] },
  LocalObjectReference: { 1: ["name", "string"] },
  PolicyRule: { 1: ["verbs", "string[]"], 2: ["apiGroups", "string[]"], 3: ["resources", "string[]"], 4: ["resourceNames", "string[]"], 5: ["nonResourceURLs", "string[]"] },
  Role: { 1: ["metadata", "ObjectMeta"], 2: ["rules", "PolicyRule[]"] },
  ClusterRole: { 1: ["metadata", "ObjectMeta"], 2: ["rules", "PolicyRule[]"] },
  Subject: { 1: ["kind", "string"], 2: ["apiGroup", "string"], 3: ["name", "string"], 4: ["namespace", "string"] },
  RoleRef: { 1: ["apiGroup", "string"], 2: ["kind", "string"], 3: ["name", "string"] },
  RoleBinding: { 1: ["metadata", "ObjectMeta"], 2: ["subjects", "Subject[]"], 3: ["roleRef", "RoleRef"] },
  ClusterRoleBinding: { 1: ["metadata", "ObjectMeta"], 2: ["subjects", "Subject[]"], 3: ["roleRef", "RoleRef"] },
  PriorityClass: { 1: ["metadata", "ObjectMeta"], 2: ["value", "int"], 3: ["globalDefault", "bool"], 4: ["description", "string"], 5: ["preemptionPolicy", "string"] },
  SelfSubjectAccessReview: { 1: ["metadata", "ObjectMeta"], 2: ["spec", "SelfSubjectAccessReviewSpec"] },
  SelfSubjectAccessReviewSpec: { 1: ["resourceAttributes", "ResourceAttributes"], 2: ["nonResourceAttributes", "NonResourceAttributes"] },
  ResourceAttributes: { 1: ["namespace", "string"], 2: ["verb", "string"], 3: ["group", "string"], 4: ["version", "string"], 5: ["resource", "string"], 6: ["subresource", "string"], 7: ["name", "string"] },
  NonResourceAttributes: { 1: ["path", "string"], 2: ["verb", "string"] },
};

function decodeValue(type: FieldType, v: Buffer | number): unknown {
  switch (type) {
    case "string":
      return Buffer.isBuffer(v) ? v.toString("utf8") : undefined;
    case "bytes":
      return Buffer.isBuffer(v) ? v.toString("base64") : undefined;
    case "bool":
      return typeof v === "number" ? v !== 0 : undefined;
    case "int":
      return typeof v === "number" ? v : undefined;
    default:
      return Buffer.isBuffer(v) ? decodeMessage(type, v) : undefined;
  }
}

function decodeMessage(name: string, b: Buffer): Record<string, unknown> {
  const layout = MESSAGES[name];
  const out: Record<string, unknown> = {};
  for (const [num, values] of readFields(b)) {
    const f = layout[num];
    if (!f) continue; // fields outside the layout (status, timestamps) are not needed to create
    const [json, type] = f;
    if (type === "map" || type === "bytesmap") {
      const m: Record<string, string> = (out[json] as Record<string, string>) ?? {};
      for (const entry of values) {
        if (!Buffer.isBuffer(entry)) continue;
        const kv = readFields(entry);
        const k = kv.get(1)?.[0];
        const val = kv.get(2)?.[0];
        m[Buffer.isBuffer(k) ? k.toString("utf8") : ""] = Buffer.isBuffer(val) ? val.toString(type === "map" ? "utf8" : "base64") : "";
      }
      out[json] = m;
    } else if (type.endsWith("[]")) {
      out[json] = values.map((v) => decodeValue(type.slice(0, -2), v));
    } else {
      const v = decodeValue(type, values[values.length - 1]);
      // proto2 encoders write empty strings that JSON would omit (omitempty).
      if (v !== "") out[json] = v;
    }
  }
  return out;
}

const KINDS: Record<string, string> = {
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/ServiceAccount": "ServiceAccount",
  "rbac.authorization.k8s.io/v1/Role": "Role",
  "rbac.authorization.k8s.io/v1/ClusterRole": "ClusterRole",
  "rbac.authorization.k8s.io/v1/RoleBinding": "RoleBinding",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "ClusterRoleBinding",
  "scheduling.k8s.io/v1/PriorityClass": "PriorityClass",
  "authorization.k8s.io/v1/SelfSubjectAccessReview": "SelfSubjectAccessReview",
};

/** Decodes a protobuf request body into the JSON form of the object. */
export function decodeProtobufBody(body: Buffer): unknown {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest("protobuf: missing the k8s magic prefix");
  const unknown = readFields(body.subarray(4));
  const typeMeta = msg(unknown, 1);
  const apiVersion = typeMeta ? str(typeMeta, 1) : undefined;
  const kind = typeMeta ? str(typeMeta, 2) : undefined;
  const raw = unknown.get(2)?.[0];
  const message = KINDS[`${apiVersion}/${kind}`];
  if (!message || !Buffer.isBuffer(raw)) {
    throw new KubeError(415, "UnsupportedMediaType", `the test API server decodes protobuf bodies of ${Object.keys(KINDS).join(", ")} only (got ${apiVersion} ${kind}); send JSON, e.g. kubectl create -f or apply -f`);
  }
  return { apiVersion, kind, ...decodeMessage(message, raw) };
}
