// The three PATCH body formats besides server-side apply:
// - JSON merge patch (RFC 7386): objects merge, null deletes, anything else replaces.
// - JSON patch (RFC 6902): add/remove/replace/move/copy/test on JSON pointers (RFC 6901).
// - Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch): a merge patch in
//   which lists with a patch merge key (containers by name, ports by containerPort/port, ...)
//   merge item by item, plus the $patch, $setElementOrder, $retainKeys and
//   $deleteFromPrimitiveList directives that kubectl's client-side apply sends.
import { badRequest, KubeError } from "./status.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): Json {
  if (!isObject(patch)) return structuredClone(patch as Json);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---- RFC 6902 ----

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(p: string): string[] {
  if (p === "") return [];
  if (!p.startsWith("/")) throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${p}"`);
  return p
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function patchError(msg: string): KubeError {
  // The real server answers a failed JSON patch with 422 Invalid / "the server rejected ...".
  return new KubeError(422, "Invalid", `the server rejected our request due to an error in our request: ${msg}`);
}

function parentOf(doc: Json, segs: string[], opPath: string): { parent: JsonObject | Json[]; last: string } {
  let cur: Json = doc;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s];
    else cur = undefined as unknown as Json;
    if (cur === undefined || cur === null || typeof cur !== "object") throw patchError(`doc is missing path: "${opPath}"`);
  }
  return { parent: cur as JsonObject | Json[], last: segs[segs.length - 1] };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json = doc;
  for (const s of parsePointer(path)) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(s)] : isObject(cur) ? cur[s] : undefined;
    if (next === undefined) throw patchError(`doc is missing path: "${path}"`);
    cur = next;
  }
  return cur;
}

function arrayIndex(arr: Json[], s: string, forInsert: boolean, path: string): number {
  if (s === "-" && forInsert) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(s)) throw patchError(`invalid array index "${s}" in "${path}"`);
  const i = Number(s);
  if (i > arr.length || (!forInsert && i === arr.length)) throw patchError(`array index out of bounds: "${path}"`);
  return i;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const segs = parsePointer(path);
  if (segs.length === 0) return structuredClone(value);
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, path), 0, structuredClone(value));
  else parent[last] = structuredClone(value);
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const segs = parsePointer(path);
  if (segs.length === 0) throw patchError("cannot remove the document root");
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false, path), 1);
  else {
    if (!(last in parent)) throw patchError(`Unable to remove nonexistent key: ${last}: missing value`);
    delete parent[last];
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): Json {
  if (!Array.isArray(ops)) throw badRequest("json patch must be an array of operations");
  let doc = structuredClone(target as Json);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isObject(raw as unknown) || typeof raw.path !== "string") throw patchError("operation is missing a path");
    switch (raw.op) {
      case "add":
        doc = addAt(doc, raw.path, raw.value as Json);
        break;
      case "remove":
        doc = removeAt(doc, raw.path);
        break;
      case "replace":
        getAt(doc, raw.path);
        doc = removeAt(doc, raw.path);
        doc = addAt(doc, raw.path, raw.value as Json);
        break;
      case "move": {
        const v = getAt(doc, raw.from ?? "");
        doc = removeAt(doc, raw.from ?? "");
        doc = addAt(doc, raw.path, v);
        break;
      }
      case "copy":
        doc = addAt(doc, raw.path, getAt(doc, raw.from ?? ""));
        break;
      case "test":
        if (JSON.stringify(getAt(doc, raw.path)) !== JSON.stringify(raw.value)) throw patchError(`testing value ${raw.path} failed: test failed`);
        break;
      default:
        throw patchError(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return doc;
}

// ---- strategic merge patch ----

/**
 * Patch merge keys of the list fields our resources have (the `patchMergeKey` tags in
 * k8s.io/api). A list not named here is atomic: the patch replaces it.
 */
function mergeKeyOf(field: string, items: Json[]): string | undefined {
  switch (field) {
    case "containers":
    case "initContainers":
    case "ephemeralContainers":
    case "env":
    case "volumes":
    case "imagePullSecrets":
    case "secrets":
      return "name";
    case "volumeMounts":
      return "mountPath";
    case "volumeDevices":
      return "devicePath";
    case "ports":
      // Container ports merge on containerPort, service ports on port.
      return items.some((i) => isObject(i) && "containerPort" in i) ? "containerPort" : "port";
    case "hostAliases":
      return "ip";
    case "conditions":
      return "type";
    case "ownerReferences":
      return "uid";
    case "topologySpreadConstraints":
      return "topologyKey";
    default:
      return undefined;
  }
}

/** Lists of scalars that merge as sets (`patchStrategy:"merge"` on []string). */
const PRIMITIVE_MERGE_LISTS = new Set(["finalizers"]);

export function strategicMergePatch(target: unknown, patch: unknown): Json {
  return smpObject(isObject(target) ? target : {}, isObject(patch) ? patch : {});
}

function smpObject(target: JsonObject, patch: JsonObject): JsonObject {
  const directive = patch.$patch;
  if (directive === "replace") {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  if (directive === "delete") return {};
  const out: JsonObject = structuredClone(target);
  const retain = patch.$retainKeys;
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith("$setElementOrder/")) continue; // ordering only; merged lists keep patch order for new items
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as Json[]).filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) out[k] = smpList(k, Array.isArray(cur) ? cur : [], v);
    else if (isObject(v)) out[k] = isObject(v) && v.$patch === "replace" ? smpObject({}, v) : smpObject(isObject(cur) ? cur : {}, v);
    else out[k] = v;
  }
  if (Array.isArray(retain)) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function smpList(field: string, cur: Json[], patch: Json[]): Json[] {
  if (PRIMITIVE_MERGE_LISTS.has(field)) {
    const out = [...cur];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const replaceAll = patch.find((p) => isObject(p) && p.$patch === "replace");
  if (replaceAll) return patch.filter((p) => p !== replaceAll).map(stripDirectives);
  const key = mergeKeyOf(field, [...cur, ...patch]);
  if (!key) return patch.map(stripDirectives);
  const out = cur.map((c) => structuredClone(c));
  for (const p of patch) {
    if (!isObject(p)) continue;
    const idx = out.findIndex((c) => isObject(c) && c[key] === p[key]);
    if (p.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpObject(out[idx] as JsonObject, p);
    else out.push(stripDirectives(p));
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}
