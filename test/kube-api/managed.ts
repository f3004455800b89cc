// Field ownership (metadata.managedFields) and server-side apply, simplified from
// sigs.k8s.io/structured-merge-diff: ownership is tracked per leaf field, lists are atomic
// (owned and replaced whole), and apply (a) fails with 409 Conflict when it would change a
// field another manager owns unless force=true, (b) removes fields the same manager applied
// before and no longer applies (unless someone else owns them), (c) merges the rest.
import { groupVersion, type ResourceDef } from "./discovery.js";
import { clone, deepEqual, type KubeObject, type ManagedFieldsEntry } from "./store.js";
import { KubeError } from "./status.js";

type Path = string[];

/** Fields no manager owns: identity, bookkeeping, and the type. */
function excluded(path: Path, subresource: string | undefined): boolean {
  const [a, b] = path;
  if (a === "apiVersion" || a === "kind") return true;
  if (a === "metadata" && ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"].includes(b)) return true;
  // The main resource and the status subresource own disjoint halves of an object.
  if (subresource === "status") return a !== "status";
  return a === "status";
}

function leafPaths(v: unknown, prefix: Path, out: Path[], subresource: string | undefined): Path[] {
  if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      const p = [...prefix, k];
      if (prefix.length === 0 && excluded([k, ""], subresource) && k !== "metadata") continue;
      if (prefix.length === 1 && prefix[0] === "metadata" && excluded(p, subresource)) continue;
      leafPaths(x, p, out, subresource);
    }
  } else if (prefix.length > 0) {
    out.push(prefix);
  }
  return out;
}

const key = (p: Path) => JSON.stringify(p);
const isMap = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const unkey = (k: string) => JSON.parse(k) as Path;

function valueAt(o: unknown, p: Path): unknown {
  let cur = o;
  for (const s of p) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function deleteAt(o: Record<string, unknown>, p: Path): void {
  const chain: Record<string, unknown>[] = [o];
  let cur: unknown = o;
  for (const s of p.slice(0, -1)) {
    cur = (cur as Record<string, unknown>)[s];
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return;
    chain.push(cur as Record<string, unknown>);
  }
  delete chain[chain.length - 1][p[p.length - 1]];
  // Drop maps the removal left empty, as structured-merge-diff does.
  for (let i = chain.length - 1; i > 0; i--) {
    if (Object.keys(chain[i]).length === 0) delete chain[i - 1][p[i - 1]];
    else break;
  }
}

function toFieldsV1(paths: Iterable<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const k of paths) {
    let node = root;
    for (const s of unkey(k)) {
      const f = `f:${s}`;
      node[f] ??= {};
      node = node[f] as Record<string, unknown>;
    }
  }
  return root;
}

function fromFieldsV1(tree: Record<string, unknown>, prefix: Path = [], out: Set<string> = new Set()): Set<string> {
  const children = Object.keys(tree).filter((k) => k.startsWith("f:"));
  if (children.length === 0 && prefix.length > 0) out.add(key(prefix));
  for (const c of children) fromFieldsV1(tree[c] as Record<string, unknown>, [...prefix, c.slice(2)], out);
  return out;
}

interface Owner {
  manager: string;
  operation: "Apply" | "Update";
  subresource?: string;
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

function owners(obj: KubeObject | undefined): Owner[] {
  return (obj?.metadata.managedFields ?? []).map((e) => ({
    manager: e.manager,
    operation: e.operation,
    subresource: e.subresource,
    apiVersion: e.apiVersion,
    time: e.time,
    fields: fromFieldsV1(e.fieldsV1 ?? {}),
  }));
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function serialize(list: Owner[]): ManagedFieldsEntry[] | undefined {
  const entries = list
    .filter((o) => o.fields.size > 0)
    .map((o) => ({
      manager: o.manager,
      operation: o.operation,
      apiVersion: o.apiVersion,
      time: o.time,
      fieldsType: "FieldsV1" as const,
      fieldsV1: toFieldsV1([...o.fields].sort()),
      ...(o.subresource ? { subresource: o.subresource } : {}),
    }));
  return entries.length > 0 ? entries : undefined;
}

function sameOwner(o: Owner, manager: string, operation: string, subresource: string | undefined): boolean {
  return o.manager === manager && o.operation === operation && (o.subresource ?? "") === (subresource ?? "");
}

/**
 * Records an Update-operation write (create, PUT, non-apply PATCH) by `manager`: it takes
 * ownership of every leaf field whose value changed, away from other managers.
 */
export function recordUpdate(def: ResourceDef, prev: KubeObject | undefined, next: KubeObject, manager: string, subresource?: string): KubeObject {
  const out = clone(next);
  const list = owners(prev);
  const before = new Set(leafPaths(prev ?? {}, [], [], subresource).map(key));
  const after = leafPaths(next, [], [], subresource).map(key);
  const changed = new Set(after.filter((k) => !before.has(k) || !deepEqual(valueAt(prev, unkey(k)), valueAt(next, unkey(k)))));
  const afterSet = new Set(after);
  // Only fields inside this write's scope (main resource or status) can change hands.
  for (const o of list) for (const f of [...o.fields]) if (!excluded(unkey(f), subresource) && (changed.has(f) || !afterSet.has(f))) o.fields.delete(f);
  if (changed.size > 0) {
    let mine = list.find((o) => sameOwner(o, manager, "Update", subresource));
    if (!mine) {
      mine = { manager, operation: "Update", subresource, apiVersion: groupVersion(def), time: now(), fields: new Set() };
      list.push(mine);
    }
    mine.time = now();
    for (const f of changed) mine.fields.add(f);
  }
  out.metadata.managedFields = serialize(list);
  if (!out.metadata.managedFields) delete out.metadata.managedFields;
  return out;
}

function mergeApplied(target: unknown, config: unknown): unknown {
  if (typeof config !== "object" || config === null || Array.isArray(config)) return clone(config);
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? clone(target as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(config)) out[k] = mergeApplied(out[k], v);
  return out;
}

/**
 * Server-side apply of `config` by `manager` onto `prev` (undefined: the object is created).
 * Returns the object to store, with managedFields updated.
 */
export function applyConfig(
  def: ResourceDef,
  prev: KubeObject | undefined,
  config: KubeObject,
  opts: { manager: string; force: boolean; subresource?: string },
): KubeObject {
  const sub = opts.subresource;
  const cfgPaths = leafPaths(config, [], [], sub).map(key);
  const cfgSet = new Set(cfgPaths);
  const list = owners(prev);
  const conflicts: { manager: string; field: string }[] = [];
  for (const o of list) {
    if (sameOwner(o, opts.manager, "Apply", sub)) continue;
    for (const f of [...o.fields]) {
      const fp = unkey(f);
      // Same field, or one side replaces a whole subtree (a scalar or list where the other has a map).
      const overlapping = cfgPaths.filter((c) => {
        const cp = unkey(c);
        const n = Math.min(cp.length, fp.length);
        if (!cp.slice(0, n).every((s, i) => s === fp[i])) return false;
        if (cp.length === fp.length) return true;
        return cp.length < fp.length ? !isMap(valueAt(config, cp)) : !isMap(valueAt(prev, fp));
      });
      if (overlapping.length === 0) continue;
      const differs = overlapping.some((c) => !deepEqual(valueAt(prev, unkey(c)), valueAt(config, unkey(c))));
      if (!differs) continue;
      if (opts.force) o.fields.delete(f);
      else conflicts.push({ manager: o.manager, field: "." + fp.join(".") });
    }
  }
  if (conflicts.length > 0) {
    const lines = conflicts.map((c) => `- conflict with "${c.manager}": ${c.field}`);
    throw new KubeError(
      409,
      "Conflict",
      conflicts.length === 1
        ? `Apply failed with 1 conflict: conflict with "${conflicts[0].manager}": ${conflicts[0].field}`
        : `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`,
      {
        name: config.metadata?.name,
        group: def.group,
        kind: def.resource,
        causes: conflicts.map((c) => ({ type: "FieldManagerConflict", message: `conflict with "${c.manager}"`, field: c.field })),
      },
    );
  }
  let result = clone(prev ?? { metadata: {} }) as KubeObject;
  let mine = list.find((o) => sameOwner(o, opts.manager, "Apply", sub));
  if (mine) {
    const others = new Set(list.filter((o) => o !== mine).flatMap((o) => [...o.fields]));
    for (const f of mine.fields) if (!cfgSet.has(f) && !others.has(f)) deleteAt(result as Record<string, unknown>, unkey(f));
  }
  const cfgBody = clone(config);
  if (sub !== "status") delete cfgBody.status;
  else for (const k of Object.keys(cfgBody)) if (k !== "status" && k !== "metadata") delete cfgBody[k];
  result = mergeApplied(result, cfgBody) as KubeObject;
  if (!mine) {
    mine = { manager: opts.manager, operation: "Apply", subresource: sub, apiVersion: groupVersion(def), time: now(), fields: new Set() };
    list.push(mine);
  }
  const changedSomething = !deepEqual({ ...prev, metadata: { ...prev?.metadata, managedFields: undefined } }, { ...result, metadata: { ...result.metadata, managedFields: undefined } });
  if (changedSomething || !deepEqual([...mine.fields].sort(), [...cfgSet].sort())) mine.time = now();
  mine.fields = cfgSet;
  result.metadata.managedFields = serialize(list);
  if (!result.metadata.managedFields) delete result.metadata.managedFields;
  return result;
}

/** The default field manager for non-apply writes, derived from the User-Agent as the real server does. */
export function defaultManager(userAgent: string | undefined): string {
  const ua = (userAgent ?? "unknown").split("/")[0];
  return ua.length > 128 ? ua.slice(0, 128) : ua;
}
