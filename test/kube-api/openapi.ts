// OpenAPI documents, only as far as kubectl reads them. kubectl 1.27+ asks /openapi/v3 for a
// group's paths to learn whether PATCH/POST take `fieldValidation` (server-side field
// validation; otherwise it validates client-side) and `dryRun`. Component schemas are left
// out on purpose: without a schema for a kind, kubectl's client-side apply builds strategic
// merge patches from its compiled-in Go types, which know every patch merge key.
import { groupVersion, RESOURCES, type ResourceDef } from "./discovery.js";

const QUERY_PARAMS = ["dryRun", "fieldManager", "fieldValidation"].map((name) => ({
  name,
  in: "query",
  schema: { type: "string", uniqueItems: true },
}));

function gvk(d: ResourceDef) {
  return { group: d.group, version: d.version, kind: d.kind };
}

function gvPath(d: ResourceDef): string {
  return d.group === "" ? `api/${d.version}` : `apis/${d.group}/${d.version}`;
}

function operation(d: ResourceDef, action: string): unknown {
  return {
    operationId: `${action}${d.kind}`,
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk(d),
    parameters: action === "get" || action === "list" ? [] : QUERY_PARAMS,
    responses: { "200": { description: "OK" } },
  };
}

function paths(defs: ResourceDef[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of defs) {
    const base = `/${gvPath(d)}${d.namespaced ? "/namespaces/{namespace}" : ""}/${d.resource}`;
    out[base] = { get: operation(d, "list"), post: operation(d, "post") };
    if (d.verbs.includes("get")) {
      out[`${base}/{name}`] = { get: operation(d, "get"), put: operation(d, "put"), patch: operation(d, "patch"), delete: operation(d, "delete") };
    }
  }
  return out;
}

export function openApiV2(): unknown {
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths: paths([...RESOURCES]),
    definitions: {},
  };
}

export function openApiV3Index(): unknown {
  const gvs = [...new Set(RESOURCES.map((d) => gvPath(d)))];
  return { paths: Object.fromEntries(gvs.map((p) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=0` }])) };
}

export function openApiV3Group(gv: string): unknown {
  const defs = RESOURCES.filter((d) => gvPath(d) === gv);
  if (defs.length === 0) return undefined;
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths: paths(defs),
    components: { schemas: {} },
    "x-group-version": groupVersion(defs[0]),
  };
}
