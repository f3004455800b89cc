// The object store: one global resourceVersion counter (like etcd's revision), metadata
// bookkeeping (uid, creationTimestamp, generation, generateName), optimistic concurrency,
// finalizer-aware deletion, and a bounded change history that watches replay from.
import { randomUUID } from "node:crypto";
import { applyDefaults, initialStatus } from "./defaults.js";
import { findResource, groupVersion, type ResourceDef } from "./discovery.js";
import { alreadyExists, conflict, invalid, KubeError, notFound } from "./status.js";

const NAMESPACES = findResource("", "v1", "namespaces")!;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** Any API object. Resource-specific fields stay untyped here; the server speaks JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  type: ChangeType;
  def: ResourceDef;
  /** The object after the change (for DELETED, its last state). Never mutate. */
  object: KubeObject;
  /** The object before the change (MODIFIED only). */
  old?: KubeObject;
  rv: number;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

export function resourceKey(def: ResourceDef): string {
  return `${def.group}/${def.resource}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// RBAC objects allow path-segment names ("system:aggregate-to-view").
const PATH_SEGMENT = /^[^/%]+$/;

function validateName(def: ResourceDef, name: string): string | undefined {
  if (def.group === "rbac.authorization.k8s.io") return PATH_SEGMENT.test(name) && name !== "." && name !== ".." ? undefined : "may not contain '/' or '%'";
  const labelOnly = def.resource === "namespaces" || def.resource === "services";
  if (name.length > (labelOnly ? 63 : 253)) return `must be no more than ${labelOnly ? 63 : 253} characters`;
  const re = labelOnly ? DNS_LABEL : DNS_SUBDOMAIN;
  if (!re.test(name)) {
    return labelOnly
      ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
      : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

const NAME_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";
export function randomSuffix(n = 5): string {
  let s = "";
  for (let i = 0; i < n; i++) s += NAME_SUFFIX_CHARS[Math.floor(Math.random() * NAME_SUFFIX_CHARS.length)];
  return s;
}

/** Whether a change to `next` (vs `prev`) touches anything outside metadata and status. */
function specChanged(prev: KubeObject, next: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return !deepEqual(strip(prev), strip(next));
}

export interface WriteOptions {
  dryRun?: boolean;
  /** "status" writes only .status; the main resource write keeps the stored .status. */
  subresource?: string;
  /** On create, keep the status the caller set (controllers acting as kubelet); else it is reset. */
  keepStatus?: boolean;
}

export class Store {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<(c: Change) => void>();

  constructor(private readonly historyLimit = 50_000) {}

  /** The newest resourceVersion handed out. */
  currentRv(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch can still start from. */
  oldestRv(): number {
    return this.history.length > 0 ? this.history[0].rv - 1 : this.rv;
  }

  private table(def: ResourceDef): Map<string, KubeObject> {
    const key = resourceKey(def);
    let t = this.objects.get(key);
    if (!t) {
      t = new Map();
      this.objects.set(key, t);
    }
    return t;
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.table(def).get(`${def.namespaced ? namespace ?? "" : ""}/${name}`);
    return o ? clone(o) : undefined;
  }

  mustGet(def: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    const o = this.get(def, namespace, name);
    if (!o) throw notFound(def.resource, def.group, name);
    return o;
  }

  /** Objects of one resource, in one namespace or all, sorted by namespace then name. */
  list(def: ResourceDef, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.table(def).values()) {
      if (namespace && def.namespaced && o.metadata.namespace !== namespace) continue;
      out.push(clone(o));
    }
    out.sort((a, b) =>
      (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    );
    return out;
  }

  subscribe(fn: (c: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Changes after `rv`, or undefined when `rv` is older than the kept history (410 Gone). */
  changesSince(rv: number): Change[] | undefined {
    if (rv < this.oldestRv()) return undefined;
    // History is ordered by rv; find the first entry past rv.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  private emit(type: ChangeType, def: ResourceDef, object: KubeObject, old?: KubeObject): void {
    const c: Change = { type, def, object, old, rv: Number(object.metadata.resourceVersion) };
    this.history.push(c);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const l of [...this.listeners]) l(c);
  }

  private checkNamespace(def: ResourceDef, namespace: string | undefined, name: string, creating: boolean): void {
    if (!def.namespaced) return;
    if (!namespace) throw invalid(def.kind, def.group, "", [{ field: "metadata.namespace", message: "Required value" }]);
    const ns = this.table(NAMESPACES).get(`/${namespace}`);
    if (!ns) throw notFound("namespaces", "", namespace);
    if (creating && ns.metadata.deletionTimestamp) {
      throw new KubeError(403, "Forbidden", `${def.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        group: def.group,
        kind: def.resource,
      });
    }
  }

  create(def: ResourceDef, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const obj = clone(input);
    obj.metadata ??= {};
    const m = obj.metadata;
    if (!def.namespaced) delete m.namespace;
    if (!m.name && m.generateName) {
      for (let i = 0; i < 8; i++) {
        const candidate = `${m.generateName}${randomSuffix()}`;
        if (!this.table(def).has(`${def.namespaced ? m.namespace : ""}/${candidate}`)) {
          m.name = candidate;
          break;
        }
      }
    }
    if (!m.name) throw invalid(def.kind, def.group, "", [{ field: "metadata.name", message: "Required value: name or generateName is required" }]);
    const bad = validateName(def, m.name);
    if (bad) throw invalid(def.kind, def.group, m.name, [{ field: "metadata.name", message: `Invalid value: "${m.name}": ${bad}` }]);
    this.checkNamespace(def, m.namespace, m.name, true);
    const key = `${def.namespaced ? m.namespace : ""}/${m.name}`;
    if (this.table(def).has(key)) throw alreadyExists(def.resource, def.group, m.name);
    obj.apiVersion = groupVersion(def);
    obj.kind = def.kind;
    applyDefaults(def, obj);
    if (!opts.keepStatus) initialStatus(def, obj);
    m.uid = randomUUID();
    m.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    m.generation = 1;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    if (opts.dryRun) {
      m.resourceVersion = String(this.rv);
      return obj;
    }
    m.resourceVersion = String(++this.rv);
    this.table(def).set(key, obj);
    this.emit("ADDED", def, clone(obj));
    return clone(obj);
  }

  /**
   * Replaces an object. A resourceVersion in `input` must match the stored one (409 otherwise);
   * `requireRv` makes it mandatory, as PUT does. Writes that change nothing keep the
   * resourceVersion and send no watch event, as the real server does.
   */
  update(def: ResourceDef, input: KubeObject, opts: WriteOptions & { requireRv?: boolean } = {}): KubeObject {
    const m = input.metadata ?? {};
    const name = m.name ?? "";
    const namespace = def.namespaced ? m.namespace : undefined;
    const key = `${namespace ?? ""}/${name}`;
    const prev = this.table(def).get(key);
    if (!prev) throw notFound(def.resource, def.group, name);
    if (m.resourceVersion && m.resourceVersion !== prev.metadata.resourceVersion) {
      throw conflict(def.resource, def.group, name, "the object has been modified; please apply your changes to the latest version and try again");
    }
    if (opts.requireRv && !m.resourceVersion) {
      throw invalid(def.kind, def.group, name, [{ field: "metadata.resourceVersion", message: "Invalid value: 0x0: must be specified for an update" }]);
    }
    if (m.uid && m.uid !== prev.metadata.uid) {
      throw conflict(def.resource, def.group, name, `Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${prev.metadata.uid}`);
    }
    let next = clone(input);
    if (def.subresources.includes("status")) {
      // A status write keeps everything else, except the field ownership it records.
      if (opts.subresource === "status") next = { ...clone(prev), status: next.status, metadata: { ...clone(prev.metadata), managedFields: next.metadata?.managedFields ?? prev.metadata.managedFields } };
      else next.status = clone(prev.status);
    }
    next.apiVersion = groupVersion(def);
    next.kind = def.kind;
    // Immutable metadata stays as stored.
    next.metadata = {
      ...next.metadata,
      name: prev.metadata.name,
      namespace: prev.metadata.namespace,
      uid: prev.metadata.uid,
      creationTimestamp: prev.metadata.creationTimestamp,
      generation: prev.metadata.generation,
      deletionTimestamp: prev.metadata.deletionTimestamp,
      deletionGracePeriodSeconds: prev.metadata.deletionGracePeriodSeconds,
      resourceVersion: prev.metadata.resourceVersion,
    };
    if (!def.namespaced) delete next.metadata.namespace;
    for (const k of Object.keys(next.metadata) as (keyof ObjectMeta)[]) if (next.metadata[k] === undefined) delete next.metadata[k];
    applyDefaults(def, next);
    if (specChanged(prev, next)) next.metadata.generation = (prev.metadata.generation ?? 1) + 1;
    if (deepEqual(stripVolatile(prev), stripVolatile(next))) return clone(prev);
    if (opts.dryRun) return next;
    // Removing the last finalizer of an object being deleted completes the deletion.
    if (next.metadata.deletionTimestamp && prev.metadata.finalizers?.length && !next.metadata.finalizers?.length) {
      next.metadata.resourceVersion = String(++this.rv);
      this.table(def).delete(key);
      this.emit("DELETED", def, clone(next));
      return clone(next);
    }
    next.metadata.resourceVersion = String(++this.rv);
    this.table(def).set(key, next);
    this.emit("MODIFIED", def, clone(next), clone(prev));
    return clone(next);
  }

  /**
   * Deletes an object: at once when it has no finalizers, otherwise it gets a
   * deletionTimestamp and goes when the last finalizer is removed. Returns its last state.
   */
  delete(def: ResourceDef, namespace: string | undefined, name: string, opts: WriteOptions & { precondition?: { uid?: string; resourceVersion?: string } } = {}): KubeObject {
    const key = `${def.namespaced ? namespace ?? "" : ""}/${name}`;
    const prev = this.table(def).get(key);
    if (!prev) throw notFound(def.resource, def.group, name);
    const pre = opts.precondition;
    if (pre?.uid && pre.uid !== prev.metadata.uid) {
      throw conflict(def.resource, def.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${prev.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== prev.metadata.resourceVersion) {
      throw conflict(def.resource, def.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${prev.metadata.resourceVersion}`);
    }
    const next = clone(prev);
    if (opts.dryRun) return next;
    if (next.metadata.finalizers?.length) {
      if (next.metadata.deletionTimestamp) return next;
      next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      next.metadata.deletionGracePeriodSeconds = 0;
      next.metadata.resourceVersion = String(++this.rv);
      this.table(def).set(key, next);
      this.emit("MODIFIED", def, clone(next), clone(prev));
      return clone(next);
    }
    next.metadata.resourceVersion = String(++this.rv);
    this.table(def).delete(key);
    this.emit("DELETED", def, clone(next));
    return clone(next);
  }

  /**
   * Starts a deletion that something else completes (a namespace's contents are removed
   * first): sets deletionTimestamp and applies `mutate`, e.g. status.phase=Terminating.
   */
  markDeleting(def: ResourceDef, namespace: string | undefined, name: string, mutate: (o: KubeObject) => void): KubeObject {
    const key = `${def.namespaced ? namespace ?? "" : ""}/${name}`;
    const prev = this.table(def).get(key);
    if (!prev) throw notFound(def.resource, def.group, name);
    if (prev.metadata.deletionTimestamp) return clone(prev);
    const next = clone(prev);
    next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    next.metadata.deletionGracePeriodSeconds = 0;
    mutate(next);
    next.metadata.resourceVersion = String(++this.rv);
    this.table(def).set(key, next);
    this.emit("MODIFIED", def, clone(next), clone(prev));
    return clone(next);
  }

  /** Removes an object whatever its finalizers (the end of a namespace's termination). */
  purge(def: ResourceDef, namespace: string | undefined, name: string): void {
    const key = `${def.namespaced ? namespace ?? "" : ""}/${name}`;
    const prev = this.table(def).get(key);
    if (!prev) return;
    const last = clone(prev);
    last.metadata.resourceVersion = String(++this.rv);
    this.table(def).delete(key);
    this.emit("DELETED", def, last);
  }

  namespaceExists(name: string): boolean {
    return this.table(NAMESPACES).has(`/${name}`);
  }
}

function stripVolatile(o: KubeObject): KubeObject {
  const c = clone(o);
  delete c.metadata.resourceVersion;
  c.metadata.managedFields = c.metadata.managedFields?.map((f) => ({ ...f, time: "" }));
  return c;
}
