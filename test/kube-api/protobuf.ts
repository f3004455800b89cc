// The Kubernetes protobuf encoding, only as far as request bodies need it: kubectl's typed
// clients (e.g. `kubectl auth can-i`) POST `application/vnd.kubernetes.protobuf`. A body is
// the magic "k8s\0" followed by a runtime.Unknown message
// (k8s.io/apimachinery/pkg/runtime/generated.proto):
//   Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; }
//   TypeMeta { string apiVersion = 1; string kind = 2; }
// and `raw` is the object's own message. Only the messages decoded here are supported.
import { badRequest } from "./status.js";

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

function compact(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as Record<string, string>;
}

/** k8s.io/api/authorization/v1 SelfSubjectAccessReview (spec = 2; resourceAttributes = 1, nonResourceAttributes = 2). */
function selfSubjectAccessReview(raw: Buffer): unknown {
  const review = readFields(raw);
  const spec = msg(review, 2);
  const ra = spec && msg(spec, 1);
  const nra = spec && msg(spec, 2);
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: {
      ...(ra
        ? {
            resourceAttributes: compact({
              namespace: str(ra, 1),
              verb: str(ra, 2),
              group: str(ra, 3),
              version: str(ra, 4),
              resource: str(ra, 5),
              subresource: str(ra, 6),
              name: str(ra, 7),
            }),
          }
        : {}),
      ...(nra ? { nonResourceAttributes: compact({ path: str(nra, 1), verb: str(nra, 2) }) } : {}),
    },
  };
}

const DECODERS: Record<string, (raw: Buffer) => unknown> = {
  "authorization.k8s.io/v1/SelfSubjectAccessReview": selfSubjectAccessReview,
};

/** Decodes a protobuf request body into the JSON form of the object. */
export function decodeProtobufBody(body: Buffer): unknown {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest("protobuf: missing the k8s magic prefix");
  const unknown = readFields(body.subarray(4));
  const typeMeta = msg(unknown, 1);
  const apiVersion = typeMeta ? str(typeMeta, 1) : undefined;
  const kind = typeMeta ? str(typeMeta, 2) : undefined;
  const raw = unknown.get(2)?.[0];
  const decode = DECODERS[`${apiVersion}/${kind}`];
  if (!decode || !Buffer.isBuffer(raw)) {
    throw badRequest(`protobuf bodies are supported for ${Object.keys(DECODERS).join(", ")} only (got ${apiVersion} ${kind}); send JSON`);
  }
  return decode(raw);
}
