// HTTP routing of the test API server: authentication (bearer token), authorization (deny
// rules set by the test), discovery, and the REST verbs on /api/v1 and /apis/<group>/<version>
// (get, list, watch, create, update, patch, delete, deletecollection; status, scale, log
// subresources). Port-forward upgrades are handed to portforward.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { parse as parseYaml } from "yaml";
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, findResource, groupVersion, RESOURCES, SERVER_VERSION, type ResourceDef } from "./discovery.js";
import { applyConfig, defaultManager, recordUpdate } from "./managed.js";
import { openApiV2, openApiV3Index, openApiV3Group } from "./openapi.js";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";
import { decodeProtobufBody, PROTOBUF_CONTENT_TYPE } from "./protobuf.js";
import { parseFieldSelector, parseLabelSelector } from "./selectors.js";
import { badRequest, forbidden, invalid, KubeError, methodNotAllowed, notFound, unauthorized, unsupportedMediaType } from "./status.js";
import { clone, type KubeObject, type Store } from "./store.js";
import { toTable, wantsTable } from "./table.js";
import { matches, serveWatch } from "./watch.js";

export interface DenyRule {
  verb: string; // "*" for any
  /** "pods", "pods/portforward", "*"; matched with the API group ignored unless `group` is set. */
  resource: string;
  namespace?: string;
  group?: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  verb: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  contentType?: string;
  userAgent?: string;
  fieldManager?: string;
  status: number;
  at: number;
}

export interface PortForwardRequest {
  namespace: string;
  pod: KubeObject;
  ports: number[];
}

export interface ServerContext {
  store: Store;
  token: string;
  /** false over plain HTTP: requests without an Authorization header are let in. */
  requireToken: boolean;
  user: string;
  denies: DenyRule[];
  requests: RequestRecord[];
  serverAddress: () => string;
  bookmarkIntervalMs: number;
  /** Text of pods/<name>/log, keyed `${ns}/${pod}/${container}`. */
  logs: Map<string, string>;
  logFollowers: Set<(key: string, chunk: string) => void>;
  portForwardUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, target: PortForwardRequest) => void;
  /** Called for DELETE of a namespace; the controllers finish it. */
  onNamespaceDelete: (name: string) => void;
  /** DELETE of a pod: graceful termination is the kubelet's (controllers.ts). */
  deletePod: (namespace: string, name: string, opts: { gracePeriodSeconds?: number; dryRun?: boolean; precondition?: { uid?: string; resourceVersion?: string } }) => KubeObject;
  openWatches: Set<() => void>;
}

interface Route {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const MAX_BODY = 16 * 1024 * 1024;
/** Clients that take aggregated discovery list its media type (v2) in Accept; others get the legacy documents. */
const AGGREGATED = /application\/json;\s*g=apidiscovery\.k8s\.io;\s*v=v2;\s*as=APIGroupDiscoveryList/;
const AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new KubeError(413, "RequestEntityTooLarge", "the request body is too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-cache, private" });
  res.end(text);
}

function parseJson(body: Buffer, what = "request body"): unknown {
  if (body.length === 0) throw badRequest(`${what} is empty`);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

/** A create/update body: JSON, or the protobuf encoding for the few kinds protobuf.ts knows. */
function decodeBody(req: IncomingMessage, body: Buffer): unknown {
  const ctype = (req.headers["content-type"] ?? "application/json").split(";")[0].trim();
  if (ctype === PROTOBUF_CONTENT_TYPE) return decodeProtobufBody(body);
  if (ctype !== "application/json" && ctype !== "*/*" && ctype !== "") throw unsupportedMediaType(ctype, ["application/json", PROTOBUF_CONTENT_TYPE]);
  return parseJson(body);
}

function withoutTypeMeta(o: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KubeObject;
}

/** Parses /api/v1/... and /apis/<g>/<v>/... into a resource route, or undefined. */
export function parseResourcePath(path: string): Route | undefined {
  const segs = path.split("/").filter((s) => s !== "").map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === "api" && segs.length >= 3) {
    group = "";
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === "apis" && segs.length >= 4) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else return undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const nsDef = findResource(group, version, rest[2]);
    if (nsDef?.namespaced) return { def: nsDef, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  const def = findResource(group, version, rest[0]);
  if (!def || rest.length > 3) return undefined;
  return { def, name: rest[1], subresource: rest[2] };
}

function verbOf(method: string, route: Route, watch: boolean): string {
  switch (method) {
    case "GET":
    case "HEAD":
      return route.name ? "get" : watch ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return route.name ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

export function isDenied(denies: DenyRule[], attrs: { verb: string; resource: string; subresource?: string; group: string; namespace?: string }): boolean {
  const full = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return denies.some(
    (d) =>
      (d.verb === "*" || d.verb === attrs.verb) &&
      (d.resource === "*" || d.resource === full) &&
      (d.group === undefined || d.group === "*" || d.group === attrs.group) &&
      (d.namespace === undefined || d.namespace === attrs.namespace),
  );
}

function listKind(def: ResourceDef): string {
  return `${def.kind}List`;
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === "1" || v === "true";
}

export function createHandlers(ctx: ServerContext) {
  const authenticate = (req: IncomingMessage) => {
    const auth = req.headers.authorization;
    // Like the old insecure port, plain HTTP takes requests without credentials: client-go
    // does not send bearer tokens over http. A token that is sent must be right.
    if (!ctx.requireToken && auth === undefined) return;
    if (auth !== `Bearer ${ctx.token}`) throw unauthorized();
  };

  const record = (req: IncomingMessage, url: URL, partial: Partial<RequestRecord>, status: number) => {
    ctx.requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      verb: partial.verb ?? "",
      resource: partial.resource,
      subresource: partial.subresource,
      namespace: partial.namespace,
      name: partial.name,
      contentType: req.headers["content-type"],
      userAgent: req.headers["user-agent"],
      fieldManager: url.searchParams.get("fieldManager") ?? undefined,
      status,
      at: Date.now(),
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, info: Partial<RequestRecord>): Promise<void> {
    authenticate(req);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const q = url.searchParams;
    // Discovery and server metadata.
    if (req.method === "GET") {
      if (path === "/version") return sendJson(res, 200, SERVER_VERSION);
      if (path === "/healthz" || path === "/livez" || path === "/readyz") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end("ok");
        return;
      }
      if ((path === "/api" || path === "/apis") && AGGREGATED.test(req.headers.accept ?? "")) {
        const text = JSON.stringify(aggregatedDiscovery(path === "/api"));
        res.writeHead(200, { "Content-Type": AGGREGATED_TYPE, "Content-Length": Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (path === "/api") return sendJson(res, 200, apiVersions(ctx.serverAddress()));
      if (path === "/apis") return sendJson(res, 200, apiGroupList());
      if (path === "/openapi/v2") return sendJson(res, 200, openApiV2());
      if (path === "/openapi/v3") return sendJson(res, 200, openApiV3Index());
      const oa = path.match(/^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/);
      if (oa) {
        const doc = openApiV3Group(oa[1]);
        if (doc) return sendJson(res, 200, doc);
      }
      const gv = path.match(/^\/api\/(v1)$/) ?? path.match(/^\/apis\/([^/]+)\/([^/]+)$/);
      if (gv) {
        const list = path.startsWith("/api/") ? apiResourceList("", gv[1]) : apiResourceList(gv[1], gv[2]);
        if (list) return sendJson(res, 200, list);
      }
      const g = path.match(/^\/apis\/([^/]+)$/);
      if (g) {
        const group = apiGroup(g[1]);
        if (group) return sendJson(res, 200, group);
      }
    }
    const route = parseResourcePath(path);
    if (!route) throw new KubeError(404, "NotFound", "the server could not find the requested resource");
    const { def, namespace, name, subresource } = route;
    const watch = flag(q, "watch");
    const verb = verbOf(req.method ?? "GET", route, watch);
    Object.assign(info, { verb, resource: def.resource, subresource, namespace, name });
    if (subresource && !def.subresources.includes(subresource)) throw new KubeError(404, "NotFound", "the server could not find the requested resource");
    if (!def.verbs.includes(verb) && !subresource) throw methodNotAllowed();
    if (def.namespaced && name && !namespace) throw new KubeError(404, "NotFound", "the server could not find the requested resource");
    if (isDenied(ctx.denies, { verb, resource: def.resource, subresource, group: def.group, namespace })) {
      throw forbidden({ user: ctx.user, verb, resource: def.resource, subresource, group: def.group, namespace, name });
    }
    const dryRun = q.getAll("dryRun").includes("All");

    switch (verb) {
      case "get":
        return handleGet(req, res, route, q);
      case "list":
      case "watch":
        return handleList(req, res, route, q, watch);
      case "create": {
        const body = await readBody(req);
        if (def.resource === "selfsubjectaccessreviews") return sendJson(res, 201, accessReview(decodeBody(req, body)));
        if (subresource) throw methodNotAllowed();
        const obj = decodeBody(req, body) as KubeObject;
        checkBodyIdentity(def, obj, namespace, undefined);
        if (def.namespaced) obj.metadata = { ...obj.metadata, namespace };
        const manager = q.get("fieldManager") ?? defaultManager(req.headers["user-agent"]);
        const created = ctx.store.create(def, recordUpdate(def, undefined, { ...obj, apiVersion: groupVersion(def), kind: def.kind }, manager), { dryRun });
        return sendJson(res, 201, created);
      }
      case "update": {
        const obj = decodeBody(req, await readBody(req)) as KubeObject;
        const current = ctx.store.mustGet(def, namespace, name!);
        if (subresource === "scale") return sendJson(res, 200, writeScale(req, q, def, current, obj, dryRun));
        checkBodyIdentity(def, obj, namespace, name);
        if (def.namespaced) obj.metadata = { ...obj.metadata, namespace };
        const manager = q.get("fieldManager") ?? defaultManager(req.headers["user-agent"]);
        const withOwners = recordUpdate(def, current, { ...obj, metadata: { ...obj.metadata, name } }, manager, subresource);
        const updated = ctx.store.update(def, withOwners, { dryRun, subresource, requireRv: true });
        return sendJson(res, 200, updated);
      }
      case "patch":
        return handlePatch(req, res, route, q, dryRun);
      case "delete": {
        const opts = await deleteOptions(req, q);
        if (def.resource === "namespaces") {
          const ns = ctx.store.get(def, undefined, name!);
          if (!ns) throw notFound(def.resource, def.group, name!);
          if (dryRun) return sendJson(res, 200, ns);
          const marked = ctx.store.markDeleting(def, undefined, name!, (o) => {
            o.status = { ...o.status, phase: "Terminating" };
          });
          ctx.onNamespaceDelete(name!);
          return sendJson(res, 200, marked);
        }
        if (opts.propagationPolicy === "Orphan") orphanDependents(def, namespace, name!);
        const deleted =
          def.resource === "pods"
            ? ctx.deletePod(namespace!, name!, { dryRun, precondition: opts.preconditions, gracePeriodSeconds: opts.gracePeriodSeconds })
            : ctx.store.delete(def, namespace, name!, { dryRun, precondition: opts.preconditions });
        return sendJson(res, 200, deleted);
      }
      case "deletecollection": {
        const labels = parseLabelSelector(q.get("labelSelector") ?? undefined);
        const fields = parseFieldSelector(q.get("fieldSelector") ?? undefined, def.resource);
        const items: KubeObject[] = [];
        for (const o of ctx.store.list(def, namespace)) {
          if (!matches({ def, namespace, labels, fields }, o)) continue;
          items.push(def.resource === "pods" ? ctx.deletePod(o.metadata.namespace!, o.metadata.name!, { dryRun }) : ctx.store.delete(def, o.metadata.namespace, o.metadata.name!, { dryRun }));
        }
        return sendJson(res, 200, { kind: listKind(def), apiVersion: groupVersion(def), metadata: { resourceVersion: String(ctx.store.currentRv()) }, items });
      }
      default:
        throw methodNotAllowed();
    }
  }

  function checkBodyIdentity(def: ResourceDef, obj: KubeObject, namespace: string | undefined, name: string | undefined): void {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw badRequest("the body must be a JSON object");
    obj.metadata ??= {};
    if (obj.kind && obj.kind !== def.kind) throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${groupVersion(def)}) or kind ${obj.kind} does not match ${def.kind}`);
    if (obj.apiVersion && obj.apiVersion !== groupVersion(def)) throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${groupVersion(def)})`);
    if (def.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    if (name !== undefined && obj.metadata.name && obj.metadata.name !== name) {
      throw badRequest("the name of the object (" + obj.metadata.name + ") does not match the name on the URL (" + name + ")");
    }
  }

  function handleGet(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const { def, namespace, name, subresource } = route;
    const obj = ctx.store.mustGet(def, namespace, name!);
    if (subresource === "log") return servePodLog(req, res, obj, q);
    if (subresource === "portforward") throw badRequest("Upgrade request required");
    if (subresource === "scale") return sendJson(res, 200, toScale(obj));
    if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion }, q.get("includeObject") ?? undefined));
    sendJson(res, 200, obj);
  }

  function handleList(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, watch: boolean): void {
    const { def, namespace } = route;
    const labels = parseLabelSelector(q.get("labelSelector") ?? undefined);
    const fields = parseFieldSelector(q.get("fieldSelector") ?? undefined, def.resource);
    const table = wantsTable(req.headers.accept);
    const includeObject = q.get("includeObject") ?? undefined;
    if (watch) {
      const timeout = q.get("timeoutSeconds");
      const end = serveWatch(
        ctx.store,
        {
          def,
          namespace,
          labels,
          fields,
          resourceVersion: q.get("resourceVersion") ?? undefined,
          sendInitialEvents: flag(q, "sendInitialEvents"),
          allowBookmarks: flag(q, "allowWatchBookmarks"),
          timeoutSeconds: timeout ? Number(timeout) : undefined,
          table,
          includeObject,
        },
        res,
        ctx.bookmarkIntervalMs,
      );
      ctx.openWatches.add(end);
      res.on("close", () => ctx.openWatches.delete(end));
      return;
    }
    const all = ctx.store.list(def, namespace).filter((o) => matches({ def, namespace, labels, fields }, o));
    const rv = String(ctx.store.currentRv());
    // Chunked lists (limit/continue): the token carries the offset and the list's resourceVersion.
    let start = 0;
    const cont = q.get("continue");
    if (cont) {
      const m = Buffer.from(cont, "base64").toString().match(/^(\d+):(\d+)$/);
      if (!m) throw badRequest("continue key is not valid");
      start = Number(m[2]);
    }
    const limit = Number(q.get("limit") ?? 0);
    const items = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const meta: Record<string, unknown> = { resourceVersion: rv };
    if (limit > 0 && start + limit < all.length) {
      meta.continue = Buffer.from(`${rv}:${start + limit}`).toString("base64");
      meta.remainingItemCount = all.length - start - limit;
    }
    if (table) return sendJson(res, 200, toTable(def, items, meta, includeObject));
    // The real server leaves apiVersion and kind out of list items (only the list has them);
    // clients that need them must take them from the list, so this server does the same.
    sendJson(res, 200, { kind: listKind(def), apiVersion: groupVersion(def), metadata: meta, items: items.map(withoutTypeMeta) });
  }

  async function handlePatch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, dryRun: boolean): Promise<void> {
    const { def, namespace, name, subresource } = route;
    const ctype = (req.headers["content-type"] ?? "").split(";")[0].trim();
    const body = await readBody(req);
    const current = ctx.store.get(def, namespace, name!);
    if (ctype === "application/apply-patch+yaml" || ctype === "application/apply-patch+cbor") {
      const manager = q.get("fieldManager");
      if (!manager) throw badRequest("PATCH request with apply content type requires a fieldManager");
      let config: KubeObject;
      try {
        config = parseYaml(body.toString("utf8")) as KubeObject;
      } catch (e) {
        throw badRequest(`error decoding YAML: ${(e as Error).message}`);
      }
      if (typeof config !== "object" || config === null) throw badRequest("the apply configuration must be an object");
      if (!config.apiVersion || !config.kind) throw badRequest("invalid object type: apiVersion and kind must be set");
      checkBodyIdentity(def, config, namespace, name);
      if (!config.metadata.name) throw badRequest("metadata.name is required");
      const applied = applyConfig(def, current, config, { manager, force: flag(q, "force"), subresource });
      if (def.namespaced) applied.metadata.namespace = namespace;
      applied.metadata.name = name;
      if (!current) {
        const created = ctx.store.create(def, { ...applied, apiVersion: groupVersion(def), kind: def.kind }, { dryRun });
        return sendJson(res, 201, created);
      }
      applied.metadata.resourceVersion = current.metadata.resourceVersion;
      return sendJson(res, 200, ctx.store.update(def, applied, { dryRun, subresource }));
    }
    if (!current) throw notFound(def.resource, def.group, name!);
    const base = subresource === "scale" ? toScale(current) : current;
    let patched: KubeObject;
    const patch = parseJson(body, "patch");
    switch (ctype) {
      case "application/merge-patch+json":
        patched = mergePatch(base, patch) as KubeObject;
        break;
      case "application/json-patch+json":
        patched = jsonPatch(base, patch) as KubeObject;
        break;
      case "application/strategic-merge-patch+json":
        patched = strategicMergePatch(base, patch) as KubeObject;
        break;
      default:
        throw unsupportedMediaType(ctype, ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"]);
    }
    if (typeof patched !== "object" || patched === null || Array.isArray(patched)) {
      throw new KubeError(422, "Invalid", "the server rejected our request due to an error in our request: the patched document is not an object");
    }
    if (subresource === "scale") return sendJson(res, 200, writeScale(req, q, def, current, patched, dryRun));
    patched.metadata ??= {};
    // A patch may carry a resourceVersion as a precondition; otherwise it applies to the current one.
    patched.metadata.resourceVersion ??= current.metadata.resourceVersion;
    patched.metadata.name = name;
    const manager = q.get("fieldManager") ?? defaultManager(req.headers["user-agent"]);
    const withOwners = recordUpdate(def, current, patched, manager, subresource);
    sendJson(res, 200, ctx.store.update(def, withOwners, { dryRun, subresource }));
  }

  async function deleteOptions(
    req: IncomingMessage,
    q: URLSearchParams,
  ): Promise<{ propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string }; gracePeriodSeconds?: number }> {
    const body = await readBody(req);
    let opts: { propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string }; orphanDependents?: boolean; gracePeriodSeconds?: number } = {};
    if (body.length > 0) opts = parseJson(body, "DeleteOptions") as typeof opts;
    if (typeof opts !== "object" || opts === null) throw badRequest("DeleteOptions must be an object");
    const policy = q.get("propagationPolicy") ?? opts.propagationPolicy ?? (opts.orphanDependents ? "Orphan" : undefined);
    const grace = q.get("gracePeriodSeconds") ?? opts.gracePeriodSeconds;
    return { propagationPolicy: policy, preconditions: opts.preconditions, gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace) };
  }

  function orphanDependents(def: ResourceDef, namespace: string | undefined, name: string): void {
    const owner = ctx.store.get(def, namespace, name);
    if (!owner) return;
    for (const d of RESOURCES) {
      for (const o of ctx.store.list(d, namespace)) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === owner.metadata.uid)) continue;
        o.metadata.ownerReferences = refs.filter((r) => r.uid !== owner.metadata.uid);
        if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        ctx.store.update(d, o);
      }
    }
  }

  function accessReview(body: unknown): unknown {
    const review = body as { spec?: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: Record<string, string> } };
    const attrs = review.spec?.resourceAttributes;
    let allowed = true;
    let reason = "";
    if (attrs) {
      const denied = isDenied(ctx.denies, {
        verb: attrs.verb ?? "",
        resource: attrs.resource ?? "",
        subresource: attrs.subresource || undefined,
        group: attrs.group ?? "",
        namespace: attrs.namespace || undefined,
      });
      allowed = !denied;
      if (denied) reason = `denied by the test server's rule for ${attrs.verb} ${attrs.resource}`;
    } else if (!review.spec?.nonResourceAttributes) {
      throw new KubeError(422, "Invalid", 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
    }
    return {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: review.spec,
      status: { allowed, ...(allowed ? {} : { denied: true }), ...(reason ? { reason } : {}) },
    };
  }

  function servePodLog(req: IncomingMessage, res: ServerResponse, pod: KubeObject, q: URLSearchParams): void {
    const containers: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
    let container = q.get("container") ?? "";
    if (!container) {
      if (containers.length > 1) {
        throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.join(" ")}]`);
      }
      container = containers[0] ?? "";
    } else if (!containers.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    }
    const key = `${pod.metadata.namespace}/${pod.metadata.name}/${container}`;
    let text = ctx.logs.get(key) ?? "";
    const tail = q.get("tailLines");
    if (tail !== null) {
      const lines = text.split("\n");
      const hasTrailing = text.endsWith("\n");
      const body = hasTrailing ? lines.slice(0, -1) : lines;
      text = body.slice(Math.max(0, body.length - Number(tail))).join("\n") + (hasTrailing && body.length ? "\n" : "");
    }
    res.writeHead(200, { "Content-Type": "text/plain" });
    if (!flag(q, "follow")) {
      res.end(text);
      return;
    }
    res.write(text);
    const follower = (k: string, chunk: string) => {
      if (k === key) res.write(chunk);
    };
    ctx.logFollowers.add(follower);
    const unsubscribe = ctx.store.subscribe((c) => {
      if (c.type === "DELETED" && c.def.resource === "pods" && c.object.metadata.uid === pod.metadata.uid) res.end();
    });
    const end = () => {
      ctx.logFollowers.delete(follower);
      unsubscribe();
      res.end();
    };
    ctx.openWatches.add(end);
    res.on("close", () => {
      ctx.openWatches.delete(end);
      end();
    });
  }

  /** A write to the scale subresource: only spec.replicas moves, owned by the writer. */
  function writeScale(req: IncomingMessage, q: URLSearchParams, def: ResourceDef, current: KubeObject, scale: KubeObject, dryRun: boolean): KubeObject {
    const replicas = (scale.spec as { replicas?: number } | undefined)?.replicas;
    if (typeof replicas !== "number" || replicas < 0 || !Number.isInteger(replicas)) {
      throw invalid("Scale", "autoscaling", current.metadata.name!, [{ field: "spec.replicas", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    const next = clone(current);
    next.spec = { ...next.spec, replicas };
    if (scale.metadata?.resourceVersion) next.metadata.resourceVersion = scale.metadata.resourceVersion;
    const manager = q.get("fieldManager") ?? defaultManager(req.headers["user-agent"]);
    return toScale(ctx.store.update(def, recordUpdate(def, current, next, manager, "scale"), { dryRun }));
  }

  function toScale(o: KubeObject): KubeObject {
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: o.spec?.replicas ?? 0 },
      status: { replicas: o.status?.replicas ?? 0, selector: Object.entries(o.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") },
    };
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const info: Partial<RequestRecord> = {};
    handle(req, res, url, info)
      .then(() => record(req, url, info, res.statusCode))
      .catch((e: unknown) => {
        const err = e instanceof KubeError ? e : new KubeError(500, "InternalError", `Internal error occurred: ${(e as Error)?.message ?? String(e)}`);
        if (!(e instanceof KubeError)) console.error("kube-api test server:", e);
        record(req, url, info, err.code);
        if (res.headersSent) res.end();
        else sendJson(res, err.code, err.toStatus());
      });
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const info: Partial<RequestRecord> = { verb: "create" };
    const reject = (err: KubeError) => {
      record(req, url, info, err.code);
      const text = JSON.stringify(err.toStatus());
      socket.end(`HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    };
    try {
      authenticate(req);
      const route = parseResourcePath(url.pathname);
      if (!route || route.def.resource !== "pods" || route.subresource !== "portforward" || !route.namespace || !route.name) {
        throw new KubeError(404, "NotFound", "the server could not find the requested resource");
      }
      Object.assign(info, { resource: "pods", subresource: "portforward", namespace: route.namespace, name: route.name });
      // kubectl asks with GET (websocket) or POST (SPDY); RBAC checks "create" for both
      // since 1.30 (the "get" that websocket used before is what older clusters checked).
      if (isDenied(ctx.denies, { verb: "create", resource: "pods", subresource: "portforward", group: "", namespace: route.namespace })) {
        throw forbidden({ user: ctx.user, verb: "create", resource: "pods", subresource: "portforward", group: "", namespace: route.namespace, name: route.name });
      }
      const pod = ctx.store.mustGet(route.def, route.namespace, route.name);
      if (pod.status?.phase !== "Running") throw badRequest(`pod ${route.name} is not running and cannot be forwarded (phase ${pod.status?.phase ?? "Unknown"})`);
      const ports = url.searchParams.getAll("ports").flatMap((p) => p.split(",")).filter((p) => p !== "").map(Number);
      record(req, url, info, 101);
      ctx.portForwardUpgrade(req, socket, head, { namespace: route.namespace, pod, ports });
    } catch (e) {
      reject(e instanceof KubeError ? e : new KubeError(500, "InternalError", String(e)));
    }
  }

  return { onRequest, onUpgrade };
}
