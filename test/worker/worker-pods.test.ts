// Pod resolution and the tap target end to end: the project's Kubernetes API test server holds
// pods whose IPs are the namespaces' addresses; the worker watches them, labels entries with pod
// names, and turns the hub's tap target (PUT /api/tap) into the sidecar's kernel filter.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "@tapline/worker";
import { startKubeApi, type KubeApi } from "../kube-api/index.js";
import { createNetnsPair, netnsUnavailableReason, type NetnsPair } from "../helpers/netns.js";
import { curlRequests, hub, hubEntries, httpServer, sidecarPath, TOKEN, waitFor, type JsonEntry } from "./traffic.js";

const skip = netnsUnavailableReason() ?? (existsSync(sidecarPath) ? null : `no sidecar at ${sidecarPath} (make -C native)`);
let pair: NetnsPair;
let api: KubeApi;
let ipC: string;

function pod(name: string, ip: string): void {
  api.create({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "shop" }, spec: { nodeName: "node-a", containers: [{ name: "c", image: name }] } });
  api.setPodStatus("shop", name, { phase: "Running", podIP: ip, podIPs: [{ ip }] });
}

beforeAll(async () => {
  if (skip) return;
  pair = await createNetnsPair();
  // A second server address in `b`, for a pod that is not tapped at first.
  ipC = pair.ipB.replace(/\.2$/, ".3");
  execFileSync("ip", ["-n", pair.b, "addr", "add", `${ipC}/24`, "dev", pair.ifB]);
  await httpServer(pair, pair.b, pair.a, pair.ipB);
  await httpServer(pair, pair.b, pair.a, ipC);
  api = await startKubeApi({ nodes: ["node-a"] });
  api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  pod("client-1", pair.ipA);
  pod("server-1", pair.ipB);
  pod("other-1", ipC);
});
afterAll(async () => {
  await pair?.cleanup();
  await api?.close();
});

const paths = (l: JsonEntry[], tag: string) => l.filter((e) => e.httpRequest?.path.startsWith(`/p/${tag}-`));

describe.skipIf(!!skip)(`worker pods and tap target${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("names the pods of each entry and follows the hub's tap target", async () => {
    const h = await hub();
    await h.app.inject({ method: "PUT", url: "/api/tap", payload: { podRegex: "server-.*", namespaces: ["shop"] } });
    const w = await startWorker({
      hubUrl: h.ingestUrl, token: TOKEN, workerId: "pods-worker", node: "node-a", interfaces: [pair.ifA], sidecarPath,
      sidecarWrap: ["ip", "netns", "exec", pair.a], kubeconfig: api.kubeconfigPath, pcapLimitBytes: 0, hub: { batchMaxMs: 50 },
      // Two dissecting threads (enriching from forwarded pod events) and the reading thread's own shard.
      threads: 3,
    });
    try {
      await waitFor("the tap filter for server-1", () => w.stats().filter, (f) => f.includes(`host ${pair.ipB})`));
      await new Promise((r) => setTimeout(r, 300)); // the control socket round trip
      await curlRequests(pair, pair.a, pair.ipB, "c1", 8, 1);
      await curlRequests(pair, pair.a, ipC, "c2", 5);
      let entries = await waitFor("tapped entries", () => hubEntries(h), (l) => paths(l, "c1").length === 8);
      for (const e of paths(entries, "c1")) {
        expect(e.src).toMatchObject({ ip: pair.ipA, pod: "client-1", namespace: "shop" });
        expect(e.dst).toMatchObject({ ip: pair.ipB, pod: "server-1", namespace: "shop" });
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(paths(await hubEntries(h), "c2")).toEqual([]); // other-1 is not tapped

      const res = await h.app.inject({ method: "PUT", url: "/api/tap", payload: { podRegex: "other-.*", namespaces: ["shop"] } });
      expect(res.statusCode).toBe(200);
      await waitFor("the tap filter for other-1", () => w.stats().filter, (f) => f.includes(`host ${ipC})`));
      await new Promise((r) => setTimeout(r, 300));
      await curlRequests(pair, pair.a, pair.ipB, "c3", 5);
      await curlRequests(pair, pair.a, ipC, "c4", 8, 1);
      entries = await waitFor("entries of the new target", () => hubEntries(h), (l) => paths(l, "c4").length === 8);
      for (const e of paths(entries, "c4")) expect(e.dst).toMatchObject({ ip: ipC, pod: "other-1" });
      await new Promise((r) => setTimeout(r, 500));
      expect(paths(await hubEntries(h), "c3")).toEqual([]); // server-1 is no longer tapped

      // A pod appearing that matches the target widens the filter (through the watch).
      pod("other-2", "10.213.250.9");
      await waitFor("the filter to follow the new pod", () => w.stats().filter, (f) => f.includes("host 10.213.250.9"));
    } finally {
      await w.stop();
      await h.close();
    }
  });
});
