// The test API server against @kubernetes/client-node 2.0.1, the client the Tapline CLI uses:
// typed CRUD, errors as ApiException with a Status body, list + watch (and the informer built
// on them), server-side apply through KubernetesObjectApi, SelfSubjectAccessReview, logs,
// the DaemonSet/Deployment controllers and PortForward over the websocket channel protocol.
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  PortForward,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
  type V1DaemonSet,
  type V1Pod,
} from "@kubernetes/client-node";
import { createServer as createHttpServer, type Server } from "node:http";
import { PassThrough, Writable } from "node:stream";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startKubeApi, type KubeApi } from "./index.js";

let kube: KubeApi;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;

beforeAll(async () => {
  kube = await startKubeApi({ nodes: ["node-a", "node-b", "node-c"] });
  kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});

afterAll(async () => {
  await kube?.close();
});

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: number; body: string };
    return { code: err.code, body: JSON.parse(err.body) };
  }
  throw new Error("expected the call to fail");
}

const DAEMONSET: V1DaemonSet = {
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "worker", namespace: "tap", labels: { "app.kubernetes.io/part-of": "tapline" } },
  spec: {
    selector: { matchLabels: { app: "worker" } },
    template: {
      metadata: { labels: { app: "worker", "app.kubernetes.io/part-of": "tapline" } },
      spec: {
        containers: [{ name: "worker", image: "registry.local/tapline-worker:1.0" }],
        tolerations: [{ operator: "Exists" }],
      },
    },
  },
};

describe("@kubernetes/client-node against the test API server", () => {
  test("CRUD with resourceVersion, Status errors, selectors", async () => {
    const ns = await core.createNamespace({ body: { metadata: { name: "tap" } } });
    expect(ns.status?.phase).toBe("Active");
    const cm = await core.createNamespacedConfigMap({ namespace: "tap", body: { metadata: { name: "cfg", labels: { tier: "a" } }, data: { k: "v" } } });
    expect(cm.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const dup = await apiError(core.createNamespacedConfigMap({ namespace: "tap", body: { metadata: { name: "cfg" } } }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ kind: "Status", status: "Failure", reason: "AlreadyExists", message: 'configmaps "cfg" already exists', code: 409 });

    const stale = { ...cm, data: { k: "w" } };
    const updated = await core.replaceNamespacedConfigMap({ namespace: "tap", name: "cfg", body: stale });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    const conflict = await apiError(core.replaceNamespacedConfigMap({ namespace: "tap", name: "cfg", body: stale }));
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe("Conflict");

    await core.createNamespacedConfigMap({ namespace: "tap", body: { metadata: { name: "cfg-b", labels: { tier: "b" } } } });
    await core.createNamespacedConfigMap({ namespace: "tap", body: { metadata: { name: "cfg-c" } } });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await core.listNamespacedConfigMap({ namespace: "tap", labelSelector, fieldSelector })).items.map((i) => i.metadata?.name);
    expect(await names("tier=a")).toEqual(["cfg"]);
    expect(await names("tier!=a")).toEqual(["cfg-b", "cfg-c"]);
    expect(await names("tier in (a,b)")).toEqual(["cfg", "cfg-b"]);
    expect(await names("tier")).toEqual(["cfg", "cfg-b"]);
    expect(await names("!tier")).toEqual(["cfg-c"]);
    expect(await names(undefined, "metadata.name=cfg-b")).toEqual(["cfg-b"]);
    const badField = await apiError(core.listNamespacedConfigMap({ namespace: "tap", fieldSelector: "data.k=v" }));
    expect(badField.code).toBe(400);

    const missing = await apiError(core.readNamespacedConfigMap({ namespace: "tap", name: "nope" }));
    expect(missing.code).toBe(404);
    expect(missing.body.message).toBe('configmaps "nope" not found');
    const noNs = await apiError(core.createNamespacedConfigMap({ namespace: "ghost", body: { metadata: { name: "x" } } }));
    expect(noNs.body.message).toBe('namespaces "ghost" not found');

    const deleted = await core.deleteCollectionNamespacedConfigMap({ namespace: "tap", labelSelector: "tier" });
    expect(deleted).toBeDefined();
    expect(await names()).toEqual(["cfg-c"]);
  });

  test("merge, strategic merge and JSON patches", async () => {
    const merge = await core.patchNamespacedConfigMap(
      { namespace: "tap", name: "cfg-c", body: { metadata: { labels: { a: "1" } }, data: { x: "y" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(merge.data).toEqual({ x: "y" });
    expect(merge.metadata?.labels).toEqual({ a: "1" });
    const json = await core.patchNamespacedConfigMap({
      namespace: "tap",
      name: "cfg-c",
      body: [
        { op: "add", path: "/data/z", value: "1" },
        { op: "remove", path: "/metadata/labels/a" },
      ],
    });
    expect(json.data).toEqual({ x: "y", z: "1" });
    expect(json.metadata?.labels).toEqual({});
    const failed = await apiError(core.patchNamespacedConfigMap({ namespace: "tap", name: "cfg-c", body: [{ op: "test", path: "/data/z", value: "2" }] }));
    expect(failed.code).toBe(422);

    // Strategic merge: containers merge by name, a $patch: delete removes one.
    await core.createNamespacedPod({
      namespace: "tap",
      body: { metadata: { name: "two" }, spec: { containers: [{ name: "a", image: "a:1" }, { name: "b", image: "b:1" }] } },
    });
    const smp = await core.patchNamespacedPod(
      { namespace: "tap", name: "two", body: { spec: { containers: [{ name: "b", image: "b:2" }, { name: "a", $patch: "delete" }] } } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    expect(smp.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(["b=b:2"]);
    await core.deleteNamespacedPod({ namespace: "tap", name: "two" });
  });

  test("server-side apply through KubernetesObjectApi creates, then is a no-op, then updates", async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const apply = (o: KubernetesObject) => objects.patch(o, undefined, undefined, "tapline", true, PatchStrategy.ServerSideApply);
    const created = await apply(DAEMONSET);
    expect(created.metadata?.uid).toBeDefined();
    expect(kube.requests.at(-1)).toMatchObject({ method: "PATCH", contentType: "application/apply-patch+yaml", fieldManager: "tapline", status: 201 });
    const again = await apply(DAEMONSET);
    expect(again.metadata?.resourceVersion).toBe(kube.get("daemonsets", "tap", "worker")!.metadata.resourceVersion);
    expect(again.metadata?.generation).toBe(1);
    const changed = structuredClone(DAEMONSET);
    changed.spec!.template.spec!.containers[0].image = "registry.local/tapline-worker:1.1";
    const updated = await apply(changed);
    expect(updated.metadata?.generation).toBe(2);
    expect(updated.metadata?.managedFields?.map((m) => `${m.manager}/${m.operation}`)).toEqual(["tapline/Apply"]);
  });

  test("DaemonSet pods per node follow readiness and image pull failures", async () => {
    const pods = await kube.waitFor(() => {
      const p = kube.list("pods", "tap").filter((x) => x.metadata.labels?.app === "worker" && x.spec.containers[0].image.endsWith(":1.1"));
      return p.length === 3 && p;
    });
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(["node-a", "node-b", "node-c"]));
    expect(pods[0].metadata.ownerReferences?.[0]).toMatchObject({ kind: "DaemonSet", name: "worker", controller: true });
    kube.setPodReady("tap", pods[0].metadata.name!);
    kube.setPodReady("tap", pods[1].metadata.name!);
    kube.setPodImagePullBackOff("tap", pods[2].metadata.name!, "rpc error: manifest unknown");
    await kube.waitFor(() => kube.get("daemonsets", "tap", "worker")!.status?.numberReady === 2);
    const status = (await apps.readNamespacedDaemonSet({ namespace: "tap", name: "worker" })).status!;
    expect(status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberUnavailable: 1 });
    const bad = await core.readNamespacedPod({ namespace: "tap", name: pods[2].metadata.name! });
    expect(bad.status?.containerStatuses?.[0].state?.waiting?.reason).toBe("ImagePullBackOff");
    const events = await core.listNamespacedEvent({ namespace: "tap", fieldSelector: `involvedObject.name=${pods[2].metadata.name}` });
    expect(events.items.map((e) => e.message)).toContain('Failed to pull image "registry.local/tapline-worker:1.1": rpc error: manifest unknown');

    // A new node gets a pod (the DaemonSet tolerates every taint); deleting a pod brings it back.
    kube.addNode("node-d", { taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }] });
    await kube.waitFor(() => kube.list("pods", "tap").some((p) => p.spec.nodeName === "node-d"));
    await core.deleteNamespacedPod({ namespace: "tap", name: pods[2].metadata.name! });
    await kube.waitFor(() => kube.list("pods", "tap").filter((p) => p.spec.nodeName === pods[2].spec.nodeName && p.metadata.labels?.app === "worker").length === 1);
    expect((await apps.readNamespacedDaemonSet({ namespace: "tap", name: "worker" })).status?.desiredNumberScheduled).toBe(4);
  });

  test("list then watch from its resourceVersion; informer sees adds, updates and deletes", async () => {
    const list = await core.listNamespacedPod({ namespace: "tap" });
    const seen: string[] = [];
    const watch = new Watch(kc);
    const ctrl = await watch.watch(
      "/api/v1/namespaces/tap/pods",
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type, obj: V1Pod) => seen.push(`${type} ${obj.metadata?.name ?? ""}`),
      () => {},
    );
    const informer = makeInformer(kc, "/api/v1/namespaces/tap/pods", () => core.listNamespacedPod({ namespace: "tap" }));
    const informed: string[] = [];
    informer.on("add", (p: V1Pod) => informed.push(`add ${p.metadata?.name}`));
    informer.on("update", (p: V1Pod) => informed.push(`update ${p.metadata?.name}`));
    informer.on("delete", (p: V1Pod) => informed.push(`delete ${p.metadata?.name}`));
    await informer.start();
    await core.createNamespacedPod({ namespace: "tap", body: { metadata: { name: "solo" }, spec: { containers: [{ name: "c", image: "busybox:1" }] } } });
    kube.setPodReady("tap", "solo");
    await core.deleteNamespacedPod({ namespace: "tap", name: "solo" });
    await kube.waitFor(() => seen.includes("DELETED solo") && informed.includes("delete solo"));
    expect(seen.filter((s) => s.endsWith(" solo"))[0]).toBe("ADDED solo");
    expect(seen).toContain("MODIFIED solo");
    expect(informed).toContain("add solo");
    expect(informed).toContain("update solo");
    // Nothing from before the list's resourceVersion was replayed.
    expect(seen.filter((s) => s.startsWith("ADDED")).every((s) => s === "ADDED solo")).toBe(true);
    ctrl.abort();
    await informer.stop();
  });

  test("SelfSubjectAccessReview answers from denyVerb; Forbidden errors name verb and resource", async () => {
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const review = (verb: string, resource: string, namespace?: string) =>
      authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, namespace, group: "" } } } });
    expect((await review("list", "nodes")).status?.allowed).toBe(true);
    kube.denyVerb("list", "nodes");
    const denied = await review("list", "nodes");
    expect(denied.status).toMatchObject({ allowed: false, denied: true });
    const forbidden = await apiError(core.listNode());
    expect(forbidden.code).toBe(403);
    expect(forbidden.body.message).toBe('nodes is forbidden: User "tapline-test" cannot list resource "nodes" in API group "" at the cluster scope');
    kube.allowAll();
  });

  test("pod logs", async () => {
    const pod = kube.list("pods", "tap")[0];
    kube.setPodLog("tap", pod.metadata.name!, "hello\nworld\n");
    const text = await core.readNamespacedPodLog({ namespace: "tap", name: pod.metadata.name! });
    expect(text).toBe("hello\nworld\n");
  });

  test("PortForward over the websocket channel protocol reaches a real HTTP server", async () => {
    const hub: Server = createHttpServer((req, res) => res.end(`hub ${req.url}`));
    await new Promise<void>((r) => hub.listen(0, "127.0.0.1", r));
    const pod = kube.list("pods", "tap").find((p) => p.status?.phase === "Running")!;
    kube.forwardPort("tap", pod.metadata.name!, 8899, (hub.address() as AddressInfo).port);
    const forward = new PortForward(kc);
    const local: TcpServer = createTcpServer((sock) => {
      void forward.portForward("tap", pod.metadata.name!, [8899], sock, null, sock);
    });
    await new Promise<void>((r) => local.listen(0, "127.0.0.1", r));
    const res = await fetch(`http://127.0.0.1:${(local.address() as AddressInfo).port}/api/health`, { headers: { connection: "close" } });
    expect(await res.text()).toBe("hub /api/health");
    local.close();
    hub.close();

    // Bytes arrive intact both ways: 256 KiB through an echo server.
    const echo: TcpServer = createTcpServer((s) => {
      s.on("error", () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    kube.forwardPort("tap", pod.metadata.name!, 7, (echo.address() as AddressInfo).port);
    const payload = Buffer.alloc(256 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const input = new PassThrough();
    const chunks: Buffer[] = [];
    const sockets: { close: () => void }[] = [];
    let got = 0;
    const received = new Promise<void>((resolve, reject) => {
      setTimeout(() => reject(new Error(`echo: ${got} of ${payload.length} bytes`)), 10_000);
      const output = new Writable({
        write(chunk: Buffer, _enc, cb) {
          chunks.push(chunk);
          got += chunk.length;
          if (got >= payload.length) resolve();
          cb();
        },
      });
      // Input is written, not ended: client-node closes the websocket when its input ends.
      void forward.portForward("tap", pod.metadata.name!, [7], output, null, input).then((ws) => {
        sockets.push(ws as { close: () => void });
        input.write(payload);
      });
    });
    await received;
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    for (const ws of sockets) ws.close();
    echo.close();
  });
});
