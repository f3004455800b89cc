// startKubeApi: a Kubernetes API server for tests, speaking the real REST API over HTTPS
// (self-signed certificate made with openssl at start) with a kubeconfig written for it, so
// kubectl, @kubernetes/client-node and the Tapline CLI talk to it as to a cluster.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { Controllers } from "./controllers.js";
import { findKind, findResource, RESOURCES, type ResourceDef } from "./discovery.js";
import { CHANNEL_PROTOCOLS, handleWebSocketPortForward, type ForwardTarget } from "./portforward.js";
import { createHandlers, type DenyRule, type PortForwardRequest, type RequestRecord, type ServerContext } from "./server.js";
import { handleSpdyPortForward, SPDY_PORTFORWARD_PROTOCOLS, WEBSOCKET_SPDY_TUNNEL_PROTOCOL } from "./spdy.js";
import { Store, type KubeObject } from "./store.js";

export type { KubeObject } from "./store.js";
export type { DenyRule, RequestRecord } from "./server.js";
export { isPodReady } from "./controllers.js";

const TUNNEL_TOKEN = "tapline-spdy-tunnel";

export interface KubeApiOptions {
  /**
   * HTTPS with a self-signed certificate (default), or plain HTTP, where requests without
   * credentials are accepted (client-go sends no bearer token over http).
   */
  tls?: boolean;
  /** The bearer token clients must send; random by default. */
  token?: string;
  /** The user name in Forbidden messages. */
  user?: string;
  /** Default namespace of the kubeconfig's context. */
  namespace?: string;
  /** Context, cluster and user name in the kubeconfig. */
  contextName?: string;
  /** Nodes to create at start. */
  nodes?: string[];
  /** Interval of watch BOOKMARK events when a client allows them (default 1000 ms). */
  bookmarkIntervalMs?: number;
  /** Changes kept for watches to replay (default 50000); older resourceVersions get 410 Expired. */
  historyLimit?: number;
  /** How long a deleted namespace stays Terminating (default 200 ms). */
  namespaceDeleteDelayMs?: number;
  /** How long a deleted pod stays Terminating before it goes (default 0: at once). */
  podTerminationMs?: number;
}

export interface KubeApi {
  url: string;
  kubeconfigPath: string;
  token: string;
  user: string;
  /** The server's certificate (its own CA), undefined over plain HTTP. */
  ca?: Buffer;
  /**
   * One authenticated request to the server (JSON bodies are serialized); the whole answer.
   * For watches, pass `stream` to get lines as they come; the returned `close` ends the watch.
   */
  request(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string>; token?: string }): Promise<{ status: number; headers: IncomingHttpHeaders; text: string; json: () => any }>;
  watchLines(path: string, onLine: (event: { type: string; object: any }) => void): { done: Promise<number>; close: () => void };
  /** The raw store (resourceVersion counter, history, objects). */
  store: Store;
  /** Every request served, in order. */
  requests: RequestRecord[];
  /** A resource by plural ("daemonsets") or kind ("DaemonSet"). */
  resource(nameOrKind: string): ResourceDef;
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(resource: string, namespace?: string): KubeObject[];
  /** Creates an object as a client would (defaults applied), e.g. a Node or a Pod. */
  create(obj: KubeObject): KubeObject;
  addNode(name: string, opts?: { labels?: Record<string, string>; taints?: { key: string; value?: string; effect: string }[] }): KubeObject;
  setPodReady(namespace: string, name: string): KubeObject;
  setPodImagePullBackOff(namespace: string, name: string, message: string, reason?: "ImagePullBackOff" | "ErrImagePull"): KubeObject;
  /** Merges `status` into a pod's status. */
  setPodStatus(namespace: string, name: string, status: Record<string, unknown>): KubeObject;
  addEvent(obj: KubeObject, event: { type?: string; reason: string; message: string; component?: string }): KubeObject;
  setPodLog(namespace: string, pod: string, text: string, container?: string): void;
  appendPodLog(namespace: string, pod: string, text: string, container?: string): void;
  /** Makes `verb` on `resource` ("pods", "pods/portforward", "*") forbidden, optionally in one namespace. */
  denyVerb(verb: string, resource: string, namespace?: string): void;
  allowAll(): void;
  /**
   * Maps a pod's port to a local address for port-forward. `pod` is a name, a RegExp on the
   * name, or "*"; later mappings win.
   */
  forwardPort(namespace: string, pod: string | RegExp, remotePort: number, local: number | ForwardTarget): void;
  /** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
  waitFor<T>(check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

function makeCertificate(dir: string): { key: Buffer; cert: Buffer } {
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=tapline-kube-api", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    { stdio: "pipe" },
  );
  return { key: readFileSync(keyPath), cert: readFileSync(certPath) };
}

function kubeconfig(o: { name: string; server: string; ca?: Buffer; token: string; namespace: string }): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${o.name}`,
    "  cluster:",
    `    server: ${o.server}`,
    ...(o.ca ? [`    certificate-authority-data: ${o.ca.toString("base64")}`] : []),
    "contexts:",
    `- name: ${o.name}`,
    "  context:",
    `    cluster: ${o.name}`,
    `    user: ${o.name}`,
    `    namespace: ${o.namespace}`,
    `current-context: ${o.name}`,
    "users:",
    `- name: ${o.name}`,
    "  user:",
    `    token: ${o.token}`,
    "",
  ].join("\n");
}

export async function startKubeApi(opts: KubeApiOptions = {}): Promise<KubeApi> {
  const dir = mkdtempSync(join(tmpdir(), "tapline-kube-api-"));
  const tls = opts.tls ?? true;
  const token = opts.token ?? randomBytes(16).toString("hex");
  const user = opts.user ?? "tapline-test";
  const store = new Store(opts.historyLimit);
  const controllers = new Controllers(store, { namespaceDeleteDelayMs: opts.namespaceDeleteDelayMs ?? 200, podTerminationMs: opts.podTerminationMs ?? 0 });
  controllers.start();
  const denies: DenyRule[] = [];
  const requests: RequestRecord[] = [];
  const mappings: { namespace: string; pod: string | RegExp; port: number; target: ForwardTarget }[] = [];
  const resolve = (namespace: string, pod: string, port: number): ForwardTarget | undefined => {
    for (let i = mappings.length - 1; i >= 0; i--) {
      const m = mappings[i];
      if (m.namespace !== namespace || m.port !== port) continue;
      if (m.pod === "*" || (typeof m.pod === "string" ? m.pod === pod : m.pod.test(pod))) return m.target;
    }
    return undefined;
  };
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => {
      // Preference as the API server's: SPDY tunnelled over websocket (kubectl 1.30+), then the channel protocols.
      if (offered.has(TUNNEL_TOKEN)) return WEBSOCKET_SPDY_TUNNEL_PROTOCOL;
      for (const p of CHANNEL_PROTOCOLS) if (offered.has(p)) return p;
      return false;
    },
  });
  let address = "";
  const ctx: ServerContext = {
    store,
    token,
    requireToken: tls,
    user,
    denies,
    requests,
    serverAddress: () => address,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1000,
    logs: new Map(),
    logFollowers: new Set(),
    openWatches: new Set(),
    onNamespaceDelete: (name) => controllers.terminateNamespace(name),
    deletePod: (ns, name, o) => controllers.deletePod(ns, name, o),
    portForwardUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, t: PortForwardRequest) => {
      const target = { namespace: t.namespace, pod: t.pod.metadata.name!, ports: t.ports };
      const upgrade = (req.headers.upgrade ?? "").toLowerCase();
      if (upgrade === "websocket") {
        const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim());
        if (offered.includes(WEBSOCKET_SPDY_TUNNEL_PROTOCOL)) {
          // "SPDY/3.1+portforward.k8s.io" is not an RFC 6455 token ('/' is a separator), so
          // ws would refuse the handshake; it is swapped for a token here and answered verbatim.
          req.headers["sec-websocket-protocol"] = TUNNEL_TOKEN;
          wss.handleUpgrade(req, socket, head, (ws) => handleSpdyPortForward({ kind: "websocket", ws }, target, resolve));
          return;
        }
        handleWebSocketPortForward(wss, req, socket, head, target, resolve);
        return;
      }
      if (upgrade.startsWith("spdy/3.1")) {
        const offered = String(req.headers["x-stream-protocol-version"] ?? "").split(",").map((s) => s.trim());
        const proto = SPDY_PORTFORWARD_PROTOCOLS.find((p) => offered.includes(p));
        if (!proto) {
          socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
          return;
        }
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${proto}\r\n\r\n`);
        handleSpdyPortForward({ kind: "socket", socket, head }, target, resolve);
        return;
      }
      socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    },
  };
  const { onRequest, onUpgrade } = createHandlers(ctx);
  let server: Server;
  let ca: Buffer | undefined;
  if (tls) {
    const { key, cert } = makeCertificate(dir);
    ca = cert;
    server = createHttpsServer({ key, cert }, onRequest) as unknown as Server;
  } else {
    server = createHttpServer(onRequest);
  }
  server.on("upgrade", onUpgrade);
  const sockets = new Set<Duplex>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `${tls ? "https" : "http"}://${address}`;
  const kubeconfigPath = join(dir, "kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfig({ name: opts.contextName ?? "tapline-test", server: url, ca, token, namespace: opts.namespace ?? "default" }), { mode: 0o600 });

  const resource = (n: string): ResourceDef => {
    const d = RESOURCES.find((r) => r.resource === n || r.kind === n || r.shortNames?.includes(n));
    if (!d) throw new Error(`unknown resource ${n}`);
    return d;
  };
  const create = (obj: KubeObject): KubeObject => {
    const d = findKind(obj.apiVersion ?? "", obj.kind ?? "");
    if (!d) throw new Error(`unknown kind ${obj.apiVersion} ${obj.kind}`);
    return store.create(d, structuredClone(obj), { keepStatus: true });
  };
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  let nodeCount = 0;
  const addNode: KubeApi["addNode"] = (name, o = {}) => {
    nodeCount++;
    const t = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    return create({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", ...o.labels } },
      spec: { ...(o.taints ? { taints: o.taints } : {}) },
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: t, lastTransitionTime: t }],
        addresses: [
          { type: "InternalIP", address: `10.0.0.${nodeCount + 1}` },
          { type: "Hostname", address: name },
        ],
        nodeInfo: { kubeletVersion: "v1.32.0", containerRuntimeVersion: "containerd://1.7.0", osImage: "Tapline test node", operatingSystem: "linux", architecture: "amd64", kernelVersion: "6.0.0", kubeProxyVersion: "v1.32.0", machineID: "", systemUUID: "", bootID: "" },
        capacity: { cpu: "2", memory: "8Gi", pods: "110" },
        allocatable: { cpu: "2", memory: "8Gi", pods: "110" },
      },
    });
  };
  for (const n of opts.nodes ?? []) addNode(n);
  const PODS = findResource("", "v1", "pods")!;
  const logKey = (ns: string, pod: string, container?: string) => {
    const p = store.mustGet(PODS, ns, pod);
    return `${ns}/${pod}/${container ?? p.spec?.containers?.[0]?.name ?? ""}`;
  };

  const send = (method: string, path: string, o: { body?: unknown; headers?: Record<string, string>; token?: string } = {}) => {
    const payload = o.body === undefined ? undefined : typeof o.body === "string" || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
    const headers: Record<string, string> = {
      authorization: `Bearer ${o.token ?? token}`,
      ...(payload !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) } : {}),
      ...o.headers,
    };
    const req = (tls ? httpsRequest : httpRequest)(`${url}${path}`, { method, headers, ...(ca ? { ca } : {}) });
    if (payload !== undefined) req.write(payload);
    req.end();
    return req;
  };

  return {
    url,
    kubeconfigPath,
    ca,
    request: (method, path, o) =>
      new Promise((resolveReq, reject) => {
        const req = send(method, path, o);
        req.on("error", reject);
        req.on("response", (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolveReq({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
          });
          res.on("error", reject);
        });
      }),
    watchLines: (path, onLine) => {
      const req = send("GET", path);
      const done = new Promise<number>((resolveDone, reject) => {
        req.on("error", (e) => (req.destroyed ? resolveDone(0) : reject(e)));
        req.on("response", (res) => {
          let buf = "";
          res.on("data", (c: Buffer) => {
            buf += c.toString("utf8");
            let nl: number;
            while ((nl = buf.indexOf("\n")) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (line.trim()) onLine(JSON.parse(line));
            }
          });
          res.on("end", () => resolveDone(res.statusCode ?? 0));
          res.on("close", () => resolveDone(res.statusCode ?? 0));
        });
      });
      return { done, close: () => req.destroy() };
    },
    token,
    user,
    store,
    requests,
    resource,
    get: (r, ns, name) => store.get(resource(r), ns, name),
    list: (r, ns) => store.list(resource(r), ns),
    create,
    addNode,
    setPodReady: (ns, name) => controllers.setPodReady(ns, name),
    setPodImagePullBackOff: (ns, name, message, reason) => controllers.setPodImagePullBackOff(ns, name, message, reason),
    setPodStatus: (ns, name, status) => {
      const pod = store.mustGet(PODS, ns, name);
      pod.status = { ...pod.status, ...status };
      return store.update(PODS, pod, { subresource: "status" });
    },
    addEvent: (obj, e) => controllers.addEvent(obj, e),
    setPodLog: (ns, pod, text, container) => {
      ctx.logs.set(logKey(ns, pod, container), text);
    },
    appendPodLog: (ns, pod, text, container) => {
      const key = logKey(ns, pod, container);
      ctx.logs.set(key, (ctx.logs.get(key) ?? "") + text);
      for (const f of ctx.logFollowers) f(key, text);
    },
    denyVerb: (verb, r, namespace) => {
      denies.push({ verb, resource: r, namespace });
    },
    allowAll: () => {
      denies.length = 0;
    },
    forwardPort: (namespace, pod, remotePort, local) => {
      mappings.push({ namespace, pod, port: remotePort, target: typeof local === "number" ? { host: "127.0.0.1", port: local } : local });
    },
    waitFor: async <T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = check();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {
      controllers.stop();
      for (const end of [...ctx.openWatches]) end();
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
