// End to end: the real CLI process against the Kubernetes API test server (test/kube-api)
// and a real hub (packages/hub startHub) reached through the CLI's port-forward.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import JSZip from "jszip";
import { parseAllDocuments } from "yaml";
import type { V1DaemonSet } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHub, type RunningHub } from "@tapline/hub";
import { startKubeApi, type KubeApi, type KubeObject } from "../kube-api/index.js";
import { Running, buildCli, freePort, root, tapline } from "./helpers.js";

const goldenFile = join(root, "test/cli/golden/tap-dry-run.yaml");
const NS = "tapline";
const OWNED = ["namespaces", "priorityclasses", "serviceaccounts", "clusterroles", "clusterrolebindings", "secrets", "configmaps", "services", "deployments", "daemonsets"];

let api: KubeApi;
let hub: RunningHub;
let home: string;
let env: Record<string, string>;

/** Every object labelled as ours, as kind/namespace/name, sorted. */
function owned(): string[] {
  return OWNED.flatMap((r) =>
    api.list(r).filter((o) => o.metadata.labels?.["app.kubernetes.io/part-of"] === "tapline").map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`),
  ).sort();
}

function masked(yamlText: string): unknown[] {
  return parseAllDocuments(yamlText).map((d) => {
    const o = d.toJS() as KubeObject & { data?: Record<string, string> };
    if (o.kind === "Secret" && o.data) o.data.token = "<random>";
    return o;
  });
}

async function readyAll(): Promise<void> {
  const pods = await api.waitFor(() => {
    const ps = api.list("pods", NS);
    return ps.some((p) => p.metadata.name!.startsWith("tapline-hub")) && ps.filter((p) => p.metadata.name!.startsWith("tapline-worker")).length === 2 ? ps : undefined;
  }, 20_000);
  for (const p of pods) api.setPodReady(NS, p.metadata.name!);
}

beforeAll(async () => {
  buildCli();
  api = await startKubeApi({ nodes: ["node-a", "node-b"], namespace: "shop" });
  hub = await startHub({ port: 0, token: "unused-here", storagePath: ":memory:", storageLimitBytes: 16 << 20, redact: { defaults: true, keys: [], valuePatterns: [] } });
  api.forwardPort(NS, /^tapline-hub-/, 8899, Number(new URL(hub.url).port));
  home = mkdtempSync(join(tmpdir(), "tapline-e2e-home-"));
  // HOME isolates ~/.tapline/config.yaml; no browser is opened (--no-open).
  env = { HOME: home, KUBECONFIG: api.kubeconfigPath };
  api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  for (const name of ["front-end-1", "catalogue-1", "orders-1"]) {
    api.create({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "shop" }, spec: { containers: [{ name: "app", image: "app:1" }] } });
  }
});

afterAll(async () => {
  await hub?.close();
  await api?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("tapline against the Kubernetes API test server", () => {
  it("--dry-run prints YAML equal to the golden manifests (UPDATE_GOLDEN=1 rewrites them)", async () => {
    const r = await tapline(["tap", "front.*", "-n", "shop", "--dry-run", "--image-tag", "golden"], env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    if (process.env.UPDATE_GOLDEN) writeFileSync(goldenFile, r.stdout);
    expect(masked(r.stdout)).toEqual(masked(readFileSync(goldenFile, "utf8")));
  });

  it("rejects bad input with exit 2 and a clear message, before touching the cluster", async () => {
    const before = api.requests.length;
    const regex = await tapline(["tap", "front(end", "--dry-run"], env);
    expect(regex.status).toBe(2);
    expect(regex.stderr).toContain("invalid pod regex at position 6: unterminated group '('");
    const flag = await tapline(["tap", "--frobnicate"], env);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain("unknown option '--frobnicate'");
    const size = await tapline(["tap", "--storage-limit", "lots"], env);
    expect(size.status).toBe(2);
    expect(size.stderr).toContain("invalid --storage-limit 'lots': expected a size such as 500Mi");
    // a value pattern the hub would refuse to start on (its regexes run in linear time)
    const redact = await tapline(["tap", "--dry-run", "--redact", "/(\\d)\\1{3}/"], env);
    expect(redact.status).toBe(2);
    expect(redact.stderr).toMatch(/invalid --redact '\/\(\\d\)\\1\{3\}\/': invalid value pattern .*backreference/);
    const ctx = await tapline(["tap", "--context", "nope"], env);
    expect(ctx.status).toBe(2);
    expect(ctx.stderr).toMatch(/context "nope" not found/);
    expect(api.requests.length).toBe(before);
  });

  it("names the address when the API is unreachable, and says when there is no kubeconfig", async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "tapline-kc-"));
    const kc = join(dir, "config");
    writeFileSync(kc, readFileSync(api.kubeconfigPath, "utf8").replace(new URL(api.url).origin, `https://127.0.0.1:${port}`));
    const r = await tapline(["tap", "--no-open"], { ...env, KUBECONFIG: kc });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot reach the Kubernetes API at https://127.0.0.1:${port} (connection refused)`);
    const none = await tapline(["check"], { ...env, KUBECONFIG: join(dir, "missing") });
    expect(none.status).toBe(1);
    expect(none.stdout).toContain(`no kubeconfig found (looked at ${join(dir, "missing")})`);
    rmSync(dir, { recursive: true, force: true });
  });

  it("tap applies exactly the golden objects, shows an image pull failure, and port-forwards to the hub", async () => {
    const port = await freePort();
    const tap = new Running(["tap", "front.*", "-n", "shop", "--no-open", "-p", String(port), "--image-tag", "golden"], env);
    try {
      await tap.waitFor(/tapping 1 pod in namespace shop: shop\/front-end-1/);
      const worker = await api.waitFor(() => api.list("pods", NS).find((p) => p.metadata.name!.startsWith("tapline-worker")), 20_000);
      api.setPodImagePullBackOff(NS, worker.metadata.name!, 'Back-off pulling image "ghcr.io/tapline/tapline-worker:golden": not found');
      await tap.waitFor(new RegExp(`node node-[ab]: pod ${worker.metadata.name} container \\S+: ImagePullBackOff: .*tapline-worker:golden`));
      await readyAll();
      const [, url] = await tap.waitFor(/Tapline is ready: (http:\/\/127\.0\.0\.1:\d+)/);
      expect(tap.stderr).toContain("workers 2/2 ready");

      // The created objects: exactly the golden ones, each holding what the manifests say.
      const golden = masked(readFileSync(goldenFile, "utf8")) as KubeObject[];
      expect(owned()).toEqual(golden.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort());
      for (const g of golden) {
        const live = api.get(api.resource(g.kind!).resource, g.metadata.namespace, g.metadata.name!)!;
        const { data: _d, ...rest } = g as KubeObject & { data?: unknown };
        expect(live).toMatchObject(g.kind === "Secret" ? rest : g);
      }

      // Through the port-forward to the real hub, which also got the tap target.
      const health = await fetch(`${url}/api/health`);
      expect(health.status).toBe(200);
      const target = (await (await fetch(`${url}/api/tap`)).json()) as { podRegex: string; namespaces: string[] };
      expect(target).toMatchObject({ podRegex: "front.*", namespaces: ["shop"] });
      expect(api.requests.some((r) => r.path.includes("/portforward"))).toBe(true);
      // Server-side apply by our field manager, and waiting by watching, never by polling.
      const applies = api.requests.filter((r) => r.contentType?.startsWith("application/apply-patch"));
      expect(applies.length).toBe(10);
      expect(applies.every((r) => r.fieldManager === "tapline")).toBe(true);
      expect(api.requests.filter((r) => r.verb === "watch" && r.resource === "pods").length).toBeGreaterThan(0);
      expect(api.requests.filter((r) => r.verb === "list" && r.resource === "pods" && r.namespace === NS).length).toBe(0);
    } finally {
      expect(await tap.stop()).toBe(0);
    }
    expect(tap.stderr).toContain("port-forward stopped");
    expect(owned().length).toBe(10); // Ctrl-C leaves the deployment running
  });

  it("re-tap with a new target updates in place: same objects, same token, DaemonSet not redeployed", async () => {
    const token = api.get("secrets", NS, "tapline-token")!.data;
    const dsGeneration = api.get("daemonsets", NS, "tapline-worker")!.metadata.generation;
    const before = owned();
    const port = await freePort();
    const tap = new Running(["tap", "(catalogue|orders).*", "-n", "shop", "--no-open", "-p", String(port), "--image-tag", "golden"], env);
    try {
      await tap.waitFor(/tapping 2 pods/);
      const [, url] = await tap.waitFor(/Tapline is ready: (http:\/\/\S+)/);
      expect(owned()).toEqual(before);
      expect(api.get("secrets", NS, "tapline-token")!.data).toEqual(token);
      expect(api.get("daemonsets", NS, "tapline-worker")!.metadata.generation).toBe(dsGeneration);
      expect(api.get("configmaps", NS, "tapline-tap")!.data).toMatchObject({ podRegex: "(catalogue|orders).*", namespaces: "shop" });
      const target = (await (await fetch(`${url}/api/tap`)).json()) as { podRegex: string };
      expect(target.podRegex).toBe("(catalogue|orders).*");
    } finally {
      await tap.stop();
    }
  });

  it("view port-forwards to the running hub until Ctrl-C", async () => {
    const port = await freePort();
    const view = new Running(["view", "--no-open", "-p", String(port)], env);
    try {
      const [, url] = await view.waitFor(/Tapline: (http:\/\/127\.0\.0\.1:\d+)/);
      expect(url).toBe(`http://127.0.0.1:${port}`);
      const res = await fetch(`${url}/api/health`);
      expect(res.status).toBe(200);
    } finally {
      expect(await view.stop()).toBe(0);
    }
    await expect(fetch(`http://127.0.0.1:${port}/api/health`)).rejects.toThrow();
  });

  it("a second tap on a busy port says so", async () => {
    const port = Number(new URL(hub.url).port);
    const r = await tapline(["tap", "-n", "shop", "--no-open", "-p", String(port), "--image-tag", "golden", "--timeout", "20"], env);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
  });

  it("check reports each step, the hub's workers, and a forbidden verb", async () => {
    const ok = await tapline(["check"], env);
    expect(ok.stdout).toContain("✔ API reachable");
    expect(ok.stdout).toContain("✔ permissions: all");
    expect(ok.stdout).toContain("✔ hub ready");
    expect(ok.stdout).toContain("✔ workers ready: 2/2");
    // The stand-in hub has no capture worker connected (no real node here): check says so.
    expect(ok.stdout).toContain("✘ capture: no worker is connected to the hub");
    expect(ok.stdout.match(/✘/g)).toHaveLength(1);
    expect(ok.status).toBe(1);
    api.denyVerb("delete", "daemonsets");
    try {
      const r = await tapline(["check"], env);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(`✘ forbidden: delete daemonsets.apps in namespace "${NS}"`);
      expect(r.stdout).toContain("✔ hub ready"); // partial results after the failure
    } finally {
      api.allowAll();
    }
  });

  it("tap names the forbidden verb and resource", async () => {
    api.denyVerb("patch", "clusterroles");
    try {
      const r = await tapline(["tap", "-n", "shop", "--no-open", "--image-tag", "golden"], env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/tapline: forbidden: cannot apply ClusterRole\/tapline \(context "[^"]+"\): .*clusterroles/);
    } finally {
      api.allowAll();
    }
  });

  it("logs writes a zip with container logs, events and versions", async () => {
    const hubPod = api.list("pods", NS).find((p) => p.metadata.name!.startsWith("tapline-hub"))!;
    api.setPodLog(NS, hubPod.metadata.name!, "hub started on :8899\n", "hub");
    const file = join(home, "logs.zip");
    const r = await tapline(["logs", "-o", file], env);
    expect(r.status, r.stderr).toBe(0);
    const zip = await JSZip.loadAsync(readFileSync(file));
    expect(await zip.file(`logs/${hubPod.metadata.name}/hub.log`)!.async("string")).toBe("hub started on :8899\n");
    expect(await zip.file("events.txt")!.async("string")).toContain('Back-off pulling image "ghcr.io/tapline/tapline-worker:golden"');
    expect(JSON.parse(await zip.file("versions.json")!.async("string"))).toMatchObject({ cli: expect.any(String), images: expect.arrayContaining(["ghcr.io/tapline/tapline-hub:golden"]) });
  });

  it("export downloads HAR from the hub (here with --hub) and reports the hub's refusal of a PCAP", async () => {
    const har = join(home, "out.har");
    const r = await tapline(["export", "har", "-o", har, "--hub", hub.url, "--filter", "http"], env);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(har, "utf8"))).toMatchObject({ log: { entries: [] } });
    const pcap = join(home, "out.pcap");
    const empty = await tapline(["export", "pcap", "-o", pcap, "--hub", hub.url, "--since", "10m"], env);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/GET \/api\/pcap\?since=10m: hub answered HTTP 404: .*nothing to export/);
    expect(existsSync(pcap)).toBe(false);
    const usage = await tapline(["export", "gif", "-o", pcap], env);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("unknown export format 'gif'");
  });

  it("clean removes everything labelled as ours, cluster-scoped included, and is idempotent", async () => {
    const r = await tapline(["clean"], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("removed 10 objects");
    expect(owned()).toEqual([]);
    expect(api.list("pods", NS)).toEqual([]);
    const again = await tapline(["clean"], env);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain("nothing to remove");
  });
  it("--mesh: dry run and the applied worker DaemonSet get hostPID, --mesh, SYS_PTRACE and SYS_ADMIN; a plain re-tap takes them back", async () => {
    const workerOf = (ds: KubeObject) => {
      const spec = (ds as unknown as V1DaemonSet).spec!.template.spec!;
      const c = spec.containers.find((x) => x.name === "worker")!;
      return { hostPID: spec.hostPID, args: c.args ?? [], caps: c.securityContext?.capabilities?.add ?? [], privileged: c.securityContext?.privileged };
    };
    const dry = await tapline(["tap", "front.*", "-n", "shop", "--dry-run", "--mesh", "--image-tag", "golden"], env);
    expect(dry.status, dry.stderr).toBe(0);
    const printed = (masked(dry.stdout) as KubeObject[]).find((o) => o.kind === "DaemonSet")!;
    expect(workerOf(printed)).toEqual({ hostPID: true, args: expect.arrayContaining(["--mesh"]), caps: ["NET_RAW", "NET_ADMIN", "SYS_PTRACE", "SYS_ADMIN"], privileged: false });
    // Everything but the worker's pod template is what a plain tap prints.
    const golden = masked(readFileSync(goldenFile, "utf8")) as KubeObject[];
    expect((masked(dry.stdout) as KubeObject[]).filter((o) => o.kind !== "DaemonSet")).toEqual(golden.filter((o) => o.kind !== "DaemonSet"));

    const run = async (extra: string[]) => {
      const tap = new Running(["tap", "front.*", "-n", "shop", "--no-open", "-p", String(await freePort()), "--image-tag", "golden", ...extra], env);
      try {
        await tap.waitFor(/applied DaemonSet tapline\/tapline-worker/);
        await readyAll();
        await tap.waitFor(/Tapline is ready/);
      } finally {
        expect(await tap.stop()).toBe(0);
      }
      return workerOf(api.get("daemonsets", NS, "tapline-worker")!);
    };
    const meshed = await run(["--mesh"]);
    expect(meshed).toEqual({ hostPID: true, args: expect.arrayContaining(["--mesh"]), caps: ["NET_RAW", "NET_ADMIN", "SYS_PTRACE", "SYS_ADMIN"], privileged: false });
    const plain = await run([]);
    expect(plain.hostPID).toBe(false);
    expect(plain.args).not.toContain("--mesh");
    expect(plain.caps).toEqual(["NET_RAW", "NET_ADMIN"]);
    expect((await tapline(["clean"], env)).status).toBe(0);
  });
});
