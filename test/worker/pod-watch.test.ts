// The worker's pod resolution against the project's Kubernetes API test server: real HTTPS,
// real list+watch through @kubernetes/client-node, pods and services changing underneath.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EndpointInit } from "@tapline/protocol";
import { PodWatcher } from "@tapline/worker";
import { startKubeApi, type KubeApi } from "../kube-api/index.js";

let api: KubeApi;
let watcher: PodWatcher;
let changes = 0;

beforeAll(async () => {
  api = await startKubeApi({ nodes: ["node-a"] });
  api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  api.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "front-1", namespace: "shop", labels: { app: "front" } },
    spec: { nodeName: "node-a", containers: [{ name: "c", image: "front" }] },
  });
  api.setPodStatus("shop", "front-1", { phase: "Running", podIP: "10.1.0.5", podIPs: [{ ip: "10.1.0.5" }] });
  watcher = new PodWatcher({ kubeconfig: api.kubeconfigPath, onChange: () => changes++, debounceMs: 20 });
  await watcher.start();
});
afterAll(async () => {
  await watcher?.stop();
  await api?.close();
});

const resolve = (ip: string, port = 0) => {
  const ep: EndpointInit = { ip, port };
  watcher.index.enrich(ep);
  return ep;
};

describe("pod watcher", () => {
  it("lists the pods at start", () => {
    expect(watcher.ready).toBe(true);
    expect(resolve("10.1.0.5")).toMatchObject({ pod: "front-1", namespace: "shop", node: "node-a" });
  });

  it("follows pods and services as they come and go, through the watch", async () => {
    const before = changes;
    api.create({ apiVersion: "v1", kind: "Service", metadata: { name: "cart", namespace: "shop" }, spec: { clusterIP: "10.96.0.20", selector: { app: "cart" }, ports: [{ port: 80 }] } });
    api.create({ apiVersion: "v1", kind: "Pod", metadata: { name: "cart-1", namespace: "shop", labels: { app: "cart" } }, spec: { nodeName: "node-a", containers: [{ name: "c", image: "cart" }] } });
    api.setPodStatus("shop", "cart-1", { phase: "Running", podIP: "10.1.0.6", podIPs: [{ ip: "10.1.0.6" }] });
    await api.waitFor(() => resolve("10.1.0.6").pod === "cart-1", 10_000);
    expect(resolve("10.1.0.6").service).toBe("cart");
    expect(resolve("10.96.0.20", 80)).toMatchObject({ service: "cart", namespace: "shop" });
    api.store.delete(api.resource("pods"), "shop", "front-1");
    await api.waitFor(() => resolve("10.1.0.5").pod === undefined, 10_000);
    expect(changes).toBeGreaterThan(before);
    // it watched rather than polled: a handful of list calls, the rest watch streams
    const lists = api.requests.filter((r) => r.method === "GET" && /\/api\/v1\/(pods|services)(\?|$)/.test(r.path) && !/watch=/.test(r.path));
    expect(lists.length).toBeLessThanOrEqual(4);
  });
});
