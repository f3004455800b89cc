// The REST semantics of the test API server over raw HTTP, where the real clients do not
// reach: watch replay and expiry, bookmarks, timeouts, chunked lists, dry runs, defaulting,
// status subresources, garbage collection, namespace termination, endpoints, SSA conflicts.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startKubeApi, type KubeApi } from "./index.js";

let kube: KubeApi;

beforeAll(async () => {
  kube = await startKubeApi({ nodes: ["n1", "n2"], bookmarkIntervalMs: 100, namespaceDeleteDelayMs: 100 });
  await kube.request("POST", "/api/v1/namespaces", { body: { metadata: { name: "t" } } });
});

afterAll(async () => {
  await kube?.close();
});

const cm = (name: string, labels?: Record<string, string>) => ({ metadata: { name, ...(labels ? { labels } : {}) }, data: { k: name } });

describe("test API server REST semantics", () => {
  test("authentication: no token or a wrong one is 401 Unauthorized", async () => {
    const r = await kube.request("GET", "/api/v1/namespaces", { token: "nope" });
    expect(r.status).toBe(401);
    expect(r.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
  });

  test("discovery: legacy documents for plain JSON, aggregated (v2) when asked", async () => {
    const legacy = (await kube.request("GET", "/apis")).json();
    expect(legacy.kind).toBe("APIGroupList");
    expect(legacy.groups.map((g: { name: string }) => g.name)).toEqual(["apps", "rbac.authorization.k8s.io", "scheduling.k8s.io", "authorization.k8s.io"]);
    const apps = (await kube.request("GET", "/apis/apps/v1")).json();
    expect(apps.resources.find((r: { name: string }) => r.name === "deployments/scale")).toMatchObject({ kind: "Scale", group: "autoscaling", version: "v1" });
    const agg = await kube.request("GET", "/api", { headers: { accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json" } });
    expect(agg.headers["content-type"]).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const pods = agg.json().items[0].versions[0].resources.find((r: { resource: string }) => r.resource === "pods");
    expect(pods).toMatchObject({ scope: "Namespaced", singularResource: "pod", shortNames: ["po"] });
    expect(pods.subresources.map((s: { subresource: string }) => s.subresource)).toEqual(["status", "log", "portforward"]);
  });

  test("unknown paths are 404 Status; unsupported patch types 415", async () => {
    expect((await kube.request("GET", "/apis/batch/v1/jobs")).status).toBe(404);
    await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm("p415") });
    const r = await kube.request("PATCH", "/api/v1/namespaces/t/configmaps/p415", { body: {}, headers: { "content-type": "text/plain" } });
    expect(r.status).toBe(415);
  });

  test("resourceVersion grows globally; PUT needs one; no-op writes keep it", async () => {
    const a = (await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm("rv-a") })).json();
    const b = (await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm("rv-b") })).json();
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    const noRv = await kube.request("PUT", "/api/v1/namespaces/t/configmaps/rv-a", { body: { metadata: { name: "rv-a" }, data: { k: "x" } } });
    expect(noRv.status).toBe(422);
    expect(noRv.json().message).toContain("metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
    const same = await kube.request("PUT", "/api/v1/namespaces/t/configmaps/rv-a", { body: a });
    expect(same.json().metadata.resourceVersion).toBe(a.metadata.resourceVersion);
    const wrongName = await kube.request("PUT", "/api/v1/namespaces/t/configmaps/rv-a", { body: b });
    expect(wrongName.status).toBe(400);
    const badName = await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm("Bad_Name") });
    expect(badName.status).toBe(422);
    expect(badName.json().reason).toBe("Invalid");
    const gen = await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: { metadata: { generateName: "gen-" } } });
    expect(gen.json().metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  test("dryRun=All validates and answers without storing", async () => {
    const r = await kube.request("POST", "/api/v1/namespaces/t/configmaps?dryRun=All", { body: cm("dry") });
    expect(r.status).toBe(201);
    expect(kube.get("configmaps", "t", "dry")).toBeUndefined();
  });

  test("list with limit/continue pages through everything once", async () => {
    for (let i = 0; i < 5; i++) await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm(`page-${i}`, { page: "yes" }) });
    const names: string[] = [];
    let cont = "";
    for (let i = 0; i < 10; i++) {
      const r = (await kube.request("GET", `/api/v1/namespaces/t/configmaps?labelSelector=page&limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`)).json();
      names.push(...r.items.map((x: { metadata: { name: string } }) => x.metadata.name));
      cont = r.metadata.continue ?? "";
      if (!cont) break;
    }
    expect(names).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
  });

  test("Table output for kubectl get", async () => {
    const r = (await kube.request("GET", "/api/v1/namespaces/t/configmaps?labelSelector=page", { headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" } })).json();
    expect(r.kind).toBe("Table");
    expect(r.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(["Name", "Data", "Age"]);
    expect(r.rows[0].cells.slice(0, 2)).toEqual(["page-0", 1]);
    expect(r.rows[0].object.kind).toBe("PartialObjectMetadata");
  });

  test("watch: replay from a resourceVersion, selector transitions, bookmarks, timeoutSeconds", async () => {
    const start = (await kube.request("GET", "/api/v1/namespaces/t/configmaps")).json().metadata.resourceVersion;
    await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm("w1", { w: "on" }) });
    const events: string[] = [];
    const w = kube.watchLines(`/api/v1/namespaces/t/configmaps?watch=1&resourceVersion=${start}&labelSelector=w%3Don&allowWatchBookmarks=true&timeoutSeconds=1`, (e) =>
      events.push(`${e.type} ${e.object.metadata.name ?? ""}`),
    );
    await kube.waitFor(() => events.includes("ADDED w1"));
    // Leaving the selector is a DELETED for this watch, coming back an ADDED.
    await kube.request("PATCH", "/api/v1/namespaces/t/configmaps/w1", { body: { metadata: { labels: { w: "off" } } }, headers: { "content-type": "application/merge-patch+json" } });
    await kube.request("PATCH", "/api/v1/namespaces/t/configmaps/w1", { body: { metadata: { labels: { w: "on" } } }, headers: { "content-type": "application/merge-patch+json" } });
    await kube.request("PATCH", "/api/v1/namespaces/t/configmaps/w1", { body: { data: { k: "2" } }, headers: { "content-type": "application/merge-patch+json" } });
    await kube.request("DELETE", "/api/v1/namespaces/t/configmaps/w1");
    expect(await w.done).toBe(200); // ended by timeoutSeconds=1
    expect(events.filter((e) => !e.startsWith("BOOKMARK"))).toEqual(["ADDED w1", "DELETED w1", "ADDED w1", "MODIFIED w1", "DELETED w1"]);
    expect(events.some((e) => e.startsWith("BOOKMARK"))).toBe(true);
  });

  test("watch without a resourceVersion starts with the current state; a too old one gets 410 Expired", async () => {
    const small = await startKubeApi({ tls: false });
    try {
      const lines: { type: string; object: { metadata: { name?: string }; code?: number; reason?: string } }[] = [];
      const w = small.watchLines("/api/v1/namespaces?watch=true&timeoutSeconds=1", (e) => lines.push(e));
      await w.done;
      expect(lines.map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual(["ADDED default", "ADDED kube-node-lease", "ADDED kube-public", "ADDED kube-system"]);
    } finally {
      await small.close();
    }
    // A store with a short history: old resourceVersions are gone.
    const tiny = await startKubeApi({ tls: false, historyLimit: 3 });
    try {
      for (let i = 0; i < 6; i++) await tiny.request("POST", "/api/v1/namespaces/default/configmaps", { body: cm(`h${i}`) });
      const lines: { type: string; object: { code?: number; reason?: string; message?: string } }[] = [];
      const w = tiny.watchLines("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2", (e) => lines.push(e));
      await w.done;
      expect(lines).toHaveLength(1);
      expect(lines[0].type).toBe("ERROR");
      expect(lines[0].object).toMatchObject({ code: 410, reason: "Expired" });
      expect(lines[0].object.message).toMatch(/^too old resource version: 2 \(\d+\)$/);
    } finally {
      await tiny.close();
    }
  });

  test("status is a subresource: main writes keep it, status writes touch only it", async () => {
    await kube.request("POST", "/apis/apps/v1/namespaces/t/deployments", {
      body: { metadata: { name: "d" }, spec: { replicas: 0, selector: { matchLabels: { a: "d" } }, template: { metadata: { labels: { a: "d" } }, spec: { containers: [{ name: "c", image: "i:1" }] } } } },
    });
    const merge = { "content-type": "application/merge-patch+json" };
    const main = await kube.request("PATCH", "/apis/apps/v1/namespaces/t/deployments/d", { body: { status: { replicas: 99 }, metadata: { labels: { x: "1" } } }, headers: merge });
    expect(main.json().status.replicas).not.toBe(99);
    expect(main.json().metadata.labels).toEqual({ x: "1" });
    const st = await kube.request("PATCH", "/apis/apps/v1/namespaces/t/deployments/d/status", { body: { status: { collisionCount: 7 }, metadata: { labels: { y: "1" } } }, headers: merge });
    expect(st.json().status.collisionCount).toBe(7);
    expect(st.json().metadata.labels).toEqual({ x: "1" });
    expect(st.json().metadata.managedFields.find((m: { subresource?: string }) => m.subresource === "status")).toMatchObject({ operation: "Update", fieldsV1: { "f:status": { "f:collisionCount": {} } } });
    const scale = await kube.request("PATCH", "/apis/apps/v1/namespaces/t/deployments/d/scale", { body: { spec: { replicas: 2 } }, headers: merge });
    expect(scale.json()).toMatchObject({ kind: "Scale", spec: { replicas: 2 } });
    expect(kube.get("deployments", "t", "d")!.spec.replicas).toBe(2);
  });

  test("server-side apply: conflicts between managers carry causes; force takes ownership; dropped fields are removed", async () => {
    const apply = (manager: string, body: object, force = false) =>
      kube.request("PATCH", `/api/v1/namespaces/t/configmaps/ssa?fieldManager=${manager}${force ? "&force=true" : ""}`, {
        body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa" }, ...body }),
        headers: { "content-type": "application/apply-patch+yaml" },
      });
    expect((await apply("a", { data: { x: "1", y: "1" } })).status).toBe(201);
    expect((await apply("b", { data: { z: "1" } })).status).toBe(200);
    const c = await apply("b", { data: { x: "2" } });
    expect(c.status).toBe(409);
    expect(c.json().details.causes).toEqual([{ type: "FieldManagerConflict", message: 'conflict with "a"', field: ".data.x" }]);
    expect((await apply("b", { data: { x: "2" } }, true)).status).toBe(200);
    // b no longer applies z: it goes. a no longer applies y: it goes too; x is now b's.
    const after = (await apply("a", {})).json();
    expect(after.data).toEqual({ x: "2" });
    const owners = Object.fromEntries(after.metadata.managedFields.map((m: { manager: string; fieldsV1: unknown }) => [m.manager, m.fieldsV1]));
    expect(owners).toEqual({ b: { "f:data": { "f:x": {} } } });
    const yaml = await kube.request("PATCH", "/api/v1/namespaces/t/configmaps/ssa2?fieldManager=y", {
      body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa2\ndata:\n  a: b\n",
      headers: { "content-type": "application/apply-patch+yaml" },
    });
    expect(yaml.status).toBe(201);
    expect(yaml.json().data).toEqual({ a: "b" });
    const noManager = await kube.request("PATCH", "/api/v1/namespaces/t/configmaps/ssa2", { body: "{}", headers: { "content-type": "application/apply-patch+yaml" } });
    expect(noManager.status).toBe(400);
  });

  test("deleting an owner garbage-collects dependents unless orphaned", async () => {
    const owner = (await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm("owner") })).json();
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid };
    await kube.request("POST", "/api/v1/namespaces/t/secrets", { body: { metadata: { name: "dep", ownerReferences: [ref] } } });
    await kube.request("DELETE", "/api/v1/namespaces/t/configmaps/owner");
    await kube.waitFor(() => !kube.get("secrets", "t", "dep"));
    const owner2 = (await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: cm("owner2") })).json();
    await kube.request("POST", "/api/v1/namespaces/t/secrets", { body: { metadata: { name: "dep2", ownerReferences: [{ ...ref, name: "owner2", uid: owner2.metadata.uid }] } } });
    await kube.request("DELETE", "/api/v1/namespaces/t/configmaps/owner2", { body: { propagationPolicy: "Orphan" } });
    await new Promise((r) => setTimeout(r, 50));
    const orphan = kube.get("secrets", "t", "dep2");
    expect(orphan).toBeDefined();
    expect(orphan!.metadata.ownerReferences).toBeUndefined();
  });

  test("finalizers hold a deletion until removed", async () => {
    await kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: { metadata: { name: "fin", finalizers: ["x/y"] } } });
    const del = (await kube.request("DELETE", "/api/v1/namespaces/t/configmaps/fin")).json();
    expect(del.metadata.deletionTimestamp).toBeDefined();
    expect(kube.get("configmaps", "t", "fin")).toBeDefined();
    await kube.request("PATCH", "/api/v1/namespaces/t/configmaps/fin", { body: { metadata: { finalizers: null } }, headers: { "content-type": "application/merge-patch+json" } });
    expect(kube.get("configmaps", "t", "fin")).toBeUndefined();
  });

  test("a deleted namespace is Terminating (no new content), then gone with its contents", async () => {
    await kube.request("POST", "/api/v1/namespaces", { body: { metadata: { name: "doomed" } } });
    await kube.request("POST", "/api/v1/namespaces/doomed/configmaps", { body: cm("c") });
    const del = (await kube.request("DELETE", "/api/v1/namespaces/doomed")).json();
    expect(del.status.phase).toBe("Terminating");
    const refused = await kube.request("POST", "/api/v1/namespaces/doomed/configmaps", { body: cm("late") });
    expect(refused.status).toBe(403);
    expect(refused.json().message).toContain("because it is being terminated");
    await kube.waitFor(() => !kube.get("namespaces", undefined, "doomed"));
    expect(kube.list("configmaps", "doomed")).toEqual([]);
  });

  test("endpoints follow the service's pods and their readiness", async () => {
    await kube.request("POST", "/api/v1/namespaces/t/services", { body: { metadata: { name: "svc" }, spec: { selector: { app: "e" }, ports: [{ name: "http", port: 80, targetPort: "web" }] } } });
    await kube.request("POST", "/api/v1/namespaces/t/pods", { body: { metadata: { name: "e1", labels: { app: "e" } }, spec: { containers: [{ name: "c", image: "i:1", ports: [{ name: "web", containerPort: 8080 }] }] } } });
    await kube.waitFor(() => kube.get("pods", "t", "e1")?.spec.nodeName);
    kube.setPodReady("t", "e1");
    const ep = await kube.waitFor(() => kube.get("endpoints", "t", "svc")?.subsets?.[0]?.addresses?.length === 1 && kube.get("endpoints", "t", "svc"));
    expect(ep!.subsets[0].ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(ep!.subsets[0].addresses[0].targetRef.name).toBe("e1");
  });

  test("bad input gets a 4xx Status and the server keeps serving", async () => {
    const merge = { "content-type": "application/merge-patch+json" };
    const answers = await Promise.all([
      kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: "{not json" }),
      kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: "[1,2]" }),
      kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: { apiVersion: "apps/v1", kind: "ConfigMap", metadata: { name: "x" } } }),
      kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: { metadata: { name: "x", namespace: "other" } } }),
      kube.request("PATCH", "/api/v1/namespaces/t/configmaps/rv-a", { body: "[]", headers: merge }),
      kube.request("PATCH", "/api/v1/namespaces/t/configmaps/rv-a", { body: "5", headers: merge }),
      kube.request("PATCH", "/api/v1/namespaces/t/configmaps/rv-a?fieldManager=m", { body: "a: [b", headers: { "content-type": "application/apply-patch+yaml" } }),
      kube.request("PATCH", "/api/v1/namespaces/t/configmaps/rv-a?fieldManager=m", { body: "kind: Pod\napiVersion: v1\nmetadata: {name: rv-a}", headers: { "content-type": "application/apply-patch+yaml" } }),
      kube.request("GET", "/api/v1/namespaces/t/configmaps?labelSelector=a%20b%20c"),
      kube.request("GET", "/api/v1/namespaces/t/configmaps?continue=garbage"),
      kube.request("POST", "/api/v1/namespaces/t/configmaps", { body: Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff]), headers: { "content-type": "application/vnd.kubernetes.protobuf" } }),
      kube.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", { body: { spec: {} } }),
      kube.request("GET", "/api/v1/namespaces/t/pods/nope/log"),
    ]);
    for (const a of answers) {
      expect(a.status, a.text).toBeGreaterThanOrEqual(400);
      expect(a.status, a.text).toBeLessThan(500);
      expect(a.json().kind).toBe("Status");
    }
    expect((await kube.request("GET", "/version")).status).toBe(200);
  });

  test("pod logs follow until the pod goes", async () => {
    await kube.request("POST", "/api/v1/namespaces/t/pods", { body: { metadata: { name: "talker" }, spec: { containers: [{ name: "c", image: "i:1" }] } } });
    kube.setPodLog("t", "talker", "first\n");
    const follow = kube.request("GET", "/api/v1/namespaces/t/pods/talker/log?follow=true");
    await new Promise((r) => setTimeout(r, 50));
    kube.appendPodLog("t", "talker", "second\n");
    await new Promise((r) => setTimeout(r, 50));
    await kube.request("DELETE", "/api/v1/namespaces/t/pods/talker");
    expect((await follow).text).toBe("first\nsecond\n");
  });

  test("with podTerminationMs, deleted pods are Terminating for a while; gracePeriodSeconds=0 is immediate", async () => {
    const slow = await startKubeApi({ tls: false, podTerminationMs: 150, nodes: ["n"] });
    try {
      const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: "c", image: "i:1" }] } });
      await slow.request("POST", "/api/v1/namespaces/default/pods", { body: pod("slow") });
      await slow.request("POST", "/api/v1/namespaces/default/pods", { body: pod("fast") });
      const del = (await slow.request("DELETE", "/api/v1/namespaces/default/pods/slow")).json();
      expect(del.metadata.deletionTimestamp).toBeDefined();
      expect(del.metadata.deletionGracePeriodSeconds).toBe(30);
      const table = (await slow.request("GET", "/api/v1/namespaces/default/pods/slow", { headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } })).json();
      expect(table.rows[0].cells[2]).toBe("Terminating");
      const fast = await slow.request("DELETE", "/api/v1/namespaces/default/pods/fast", { body: { gracePeriodSeconds: 0 } });
      expect(fast.status, fast.text).toBe(200);
      expect(slow.get("pods", "default", "fast")).toBeUndefined();
      expect(slow.get("pods", "default", "slow")).toBeDefined();
      await slow.waitFor(() => !slow.get("pods", "default", "slow"), 2000);
    } finally {
      await slow.close();
    }
  });

  test("port-forward sessions survive garbage: random SPDY bytes and bad frames end the session, not the server", async () => {
    const plain = await startKubeApi({ tls: false, nodes: ["n"] });
    try {
      await plain.request("POST", "/api/v1/namespaces/default/pods", { body: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i:1" }] } } });
      plain.setPodReady("default", "p");
      const port = Number(new URL(plain.url).port);
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
      for (let round = 0; round < 20; round++) {
        const junk = Buffer.alloc(64 + round * 37);
        for (let i = 0; i < junk.length; i++) junk[i] = rand();
        // Half the rounds start with a well-formed SYN_STREAM header so the parser goes deeper.
        if (round % 2 === 0) junk.set([0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x20], 0);
        await new Promise<void>((resolve) => {
          const sock = connect(port, "127.0.0.1", () => {
            sock.write(
              "POST /api/v1/namespaces/default/pods/p/portforward HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n",
            );
            sock.write(junk);
            setTimeout(() => sock.destroy(), 30);
          });
          sock.on("close", () => resolve());
          sock.on("error", () => resolve());
        });
      }
      expect((await plain.request("GET", "/version")).status).toBe(200);
      expect(plain.requests.filter((r) => r.subresource === "portforward" && r.status === 101)).toHaveLength(20);
    } finally {
      await plain.close();
    }
  });

  test("plain HTTP mode works with kubectl", async () => {
    const plain = await startKubeApi({ tls: false });
    const cache = mkdtempSync(join(tmpdir(), "kube-api-cache-"));
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile("kubectl", ["--kubeconfig", plain.kubeconfigPath, "--cache-dir", cache, "get", "ns", "-o", "name"], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
      );
      expect(out).toBe("namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n");
    } finally {
      await plain.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
