// The test API server against the real kubectl: if kubectl can discover, get, apply (client-
// and server-side), watch, delete, check access and port-forward through it, the server is
// shaped like a real one and not like our own CLI.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, connect, type AddressInfo, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startKubeApi, type KubeApi } from "./index.js";

let kube: KubeApi;
let dir: string;
let hub: Server;
let hubPort: number;
let echo: TcpServer;
let echoPort: number;
const children = new Set<ChildProcess>();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "kubectl",
      ["--kubeconfig", kube.kubeconfigPath, "--cache-dir", join(dir, "cache"), ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts a long-running kubectl and resolves once its output matches `ready`. */
function kubectlUntil(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ child: ChildProcess; out: () => string; match: RegExpMatchArray }> {
  const child = spawn("kubectl", ["--kubeconfig", kube.kubeconfigPath, "--cache-dir", join(dir, "cache"), ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl ${args.join(" ")}: no ${ready} in ${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, out: () => out, match: m });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!out.match(ready)) reject(new Error(`kubectl exited ${code}: ${out}`));
    });
  });
}

function waitOutput(get: () => string, re: RegExp, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      if (re.test(get())) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error(`no ${re} in: ${get()}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

const MANIFEST = (ns: string, replicas: number, value: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: "${value}"
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
`;

/** A Running pod of its own for the port-forward tests (other tests roll the shop's pods). */
function runningPod() {
  if (!kube.get("pods", "default", "pf-target")) {
    kube.create({ apiVersion: "v1", kind: "Pod", metadata: { name: "pf-target", namespace: "default" }, spec: { nodeName: "node-a", containers: [{ name: "hub", image: "hub:1" }] } });
    kube.setPodReady("default", "pf-target");
  }
  return kube.get("pods", "default", "pf-target")!;
}

function manifestFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kube-api-kubectl-"));
  kube = await startKubeApi({ nodes: ["node-a", "node-b"] });
  hub = createHttpServer((req, res) => res.end(`hub saw ${req.method} ${req.url}`));
  await new Promise<void>((r) => hub.listen(0, "127.0.0.1", r));
  hubPort = (hub.address() as AddressInfo).port;
  echo = createTcpServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoPort = (echo.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await kube?.close();
  hub?.close();
  echo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("kubectl against the test API server", () => {
  test("version, discovery and get over https with a bearer token", async () => {
    const v = await kubectl(["version", "-o", "json"]);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).serverVersion.gitVersion).toMatch(/^v1\.32/);
    const res = await kubectl(["api-resources", "--no-headers"]);
    expect(res.stdout).toMatch(/^daemonsets\s+ds\s+apps\/v1\s+true\s+DaemonSet$/m);
    expect(res.stdout).toMatch(/^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview$/m);
    const pods = await kubectl(["get", "pods", "-A"]);
    expect(pods.code).toBe(0);
    expect(pods.stderr).toMatch(/No resources found/);
    const nodes = await kubectl(["get", "nodes"]);
    expect(nodes.stdout).toMatch(/^node-a\s+Ready/m);
    // Every request carried the token (unauthenticated ones would be 401).
    expect(kube.requests.every((r) => r.status !== 401)).toBe(true);
    // kubectl took aggregated discovery: /api and /apis, no per-group-version lists.
    expect(kube.requests.some((r) => r.path === "/apis")).toBe(true);
    expect(kube.requests.some((r) => r.path.startsWith("/apis/apps/"))).toBe(false);
  });

  test("a wrong token is refused with 401", async () => {
    const bad = manifestFile("bad-kubeconfig", (await import("node:fs")).readFileSync(kube.kubeconfigPath, "utf8").replace(kube.token, "wrong"));
    const r = await new Promise<Run>((resolve) =>
      execFile("kubectl", ["--kubeconfig", bad, "--cache-dir", join(dir, "cache-bad"), "get", "ns"], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  test("apply -f creates, re-apply configures (strategic merge patch), get shows controller-made pods", async () => {
    const file = manifestFile("shop.yaml", MANIFEST("shop", 2, "one"));
    const first = await kubectl(["apply", "-f", file]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("namespace/shop created\ndeployment.apps/web created\nservice/web created\n");
    const pods = await kube.waitFor(() => {
      const p = kube.list("pods", "shop");
      return p.length === 2 && p;
    });
    expect(pods.every((p) => p.metadata.ownerReferences?.[0].kind === "ReplicaSet")).toBe(true);
    const all = await kubectl(["get", "pods", "-A"]);
    expect(all.stdout).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    expect(all.stdout).toMatch(/^shop\s+web-[a-z0-9]+-[a-z0-9]{5}\s+0\/1\s+ContainerCreating\s+0\s+\d+s$/m);

    const again = await kubectl(["apply", "-f", manifestFile("shop2.yaml", MANIFEST("shop", 3, "two"))]);
    expect(again.stdout).toBe("namespace/shop unchanged\ndeployment.apps/web configured\nservice/web unchanged\n");
    const patchReq = kube.requests.filter((r) => r.method === "PATCH" && r.resource === "deployments").at(-1);
    expect(patchReq?.contentType).toBe("application/strategic-merge-patch+json");
    const d = kube.get("deployments", "shop", "web")!;
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0].env).toEqual([{ name: "MODE", value: "two" }]);
    // Defaults survive the patch, and a spec change bumps generation.
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
    expect(d.metadata.generation).toBe(2);

    // Ready pods make the rollout finish; kubectl follows it with a watch.
    const rollout = kubectlUntil(["rollout", "status", "deployment/web", "-n", "shop", "--timeout=20s"], /successfully rolled out/);
    const current = await kube.waitFor(() => {
      const rs = kube.list("replicasets", "shop").find((r) => r.spec.replicas === 3);
      const ps = rs && kube.list("pods", "shop").filter((p) => p.metadata.ownerReferences?.[0].uid === rs.metadata.uid);
      return ps && ps.length === 3 && ps;
    });
    for (const p of current) kube.setPodReady("shop", p.metadata.name!);
    await rollout;
    const get = await kubectl(["get", "deploy", "web", "-n", "shop"]);
    expect(get.stdout).toMatch(/^web\s+3\/3\s+3\s+3\s+/m);
  });

  test("apply --server-side: field manager, idempotent re-apply, conflicts and --force-conflicts", async () => {
    const file = manifestFile("ssa.yaml", MANIFEST("ssa", 2, "one"));
    const first = await kubectl(["apply", "--server-side", "-f", file]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("namespace/ssa serverside-applied\ndeployment.apps/web serverside-applied\nservice/web serverside-applied\n");
    const applyReq = kube.requests.filter((r) => r.method === "PATCH" && r.resource === "deployments").at(-1)!;
    expect(applyReq.contentType).toBe("application/apply-patch+yaml");
    expect(applyReq.fieldManager).toBe("kubectl");
    const d1 = kube.get("deployments", "ssa", "web")!;
    expect(d1.metadata.managedFields?.find((m) => m.manager === "kubectl")?.operation).toBe("Apply");

    const again = await kubectl(["apply", "--server-side", "-f", file]);
    expect(again.code).toBe(0);
    const d2 = kube.get("deployments", "ssa", "web")!;
    expect(d2.metadata.generation).toBe(1);
    expect(d2.spec).toEqual(d1.spec);

    expect((await kubectl(["scale", "deployment/web", "-n", "ssa", "--replicas=1"])).code).toBe(0);
    const conflict = await kubectl(["apply", "--server-side", "-f", file]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(/Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    const forced = await kubectl(["apply", "--server-side", "--force-conflicts", "-f", file]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(kube.get("deployments", "ssa", "web")!.spec.replicas).toBe(2);
  });

  test("get -w streams changes as they happen", async () => {
    kube.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "first", namespace: "ssa" } });
    const w = await kubectlUntil(["get", "configmaps", "-n", "ssa", "-w", "--output-watch-events"], /ADDED\s+first/);
    kube.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched", namespace: "ssa" }, data: { a: "1" } });
    await waitOutput(w.out, /ADDED\s+watched/);
    expect((await kubectl(["delete", "configmap", "watched", "-n", "ssa"])).code).toBe(0);
    await waitOutput(w.out, /DELETED\s+watched/);
    w.child.kill("SIGTERM");
  });

  test("delete -f removes everything and waits for the namespace to go", async () => {
    const del = await kubectl(["delete", "-f", join(dir, "ssa.yaml")]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toMatch(/namespace "ssa" deleted/);
    // kubectl delete waits until the objects are gone; the namespace first went Terminating.
    const ns = await kubectl(["get", "namespace", "ssa"]);
    expect(ns.stderr).toMatch(/Error from server \(NotFound\): namespaces "ssa" not found/);
    expect(kube.list("pods", "ssa")).toEqual([]);
    expect(kube.store.changesSince(1)!.some((c) => c.def.resource === "namespaces" && c.object.metadata.name === "ssa" && c.object.status?.phase === "Terminating")).toBe(true);
  });

  test("auth can-i and Forbidden answers follow denyVerb", async () => {
    const yes = await kubectl(["auth", "can-i", "list", "pods", "-n", "shop"]);
    expect(yes.stdout.trim()).toBe("yes");
    kube.denyVerb("list", "pods", "shop");
    const no = await kubectl(["auth", "can-i", "list", "pods", "-n", "shop"]);
    expect(no.code).toBe(1);
    expect(no.stdout.trim()).toMatch(/^no/);
    expect((await kubectl(["auth", "can-i", "list", "pods", "-n", "default"])).stdout.trim()).toBe("yes");
    const get = await kubectl(["get", "pods", "-n", "shop"]);
    expect(get.stderr).toContain(`Error from server (Forbidden): pods is forbidden: User "tapline-test" cannot list resource "pods" in API group "" in the namespace "shop"`);
    kube.allowAll();
  });

  test("imperative create commands (protobuf bodies) store what --dry-run=client shows", async () => {
    const commands = [
      ["create", "namespace", "imp"],
      ["create", "configmap", "c1", "-n", "imp", "--from-literal=a=b", "--from-literal=c=d"],
      ["create", "secret", "generic", "s1", "-n", "imp", "--from-literal=pw=hunter2", "--type=example/x"],
      ["create", "serviceaccount", "sa1", "-n", "imp"],
      ["create", "clusterrole", "cr1", "--verb=get,list", "--resource=pods,nodes"],
      ["create", "clusterrolebinding", "crb1", "--clusterrole=cr1", "--serviceaccount=imp:sa1"],
      ["create", "role", "r1", "-n", "imp", "--verb=watch", "--resource=services", "--resource-name=x"],
      ["create", "rolebinding", "rb1", "-n", "imp", "--role=r1", "--user=alice", "--group=devs"],
      ["create", "priorityclass", "pc1", "--value=1000", "--description=high", "--preemption-policy=Never"],
    ];
    for (const args of commands) {
      const dry = await kubectl([...args, "--dry-run=client", "-o", "json"]);
      const intended = JSON.parse(dry.stdout);
      const created = await kubectl(args);
      expect(created.code, `${args.join(" ")}: ${created.stderr}`).toBe(0);
      const ns = intended.metadata.namespace;
      const stored = kube.get(intended.kind, ns, intended.metadata.name)!;
      const { metadata, status: _status, ...body } = intended;
      expect(stored, args.join(" ")).toMatchObject(body);
      expect(stored.metadata.name).toBe(metadata.name);
    }
    expect(kube.requests.filter((r) => r.contentType === "application/vnd.kubernetes.protobuf" && r.verb === "create").length).toBeGreaterThanOrEqual(commands.length);
  });

  test("patch (merge, json, strategic), label/field selectors, delete by label", async () => {
    const ns = ["-n", "shop"];
    expect((await kubectl(["create", "configmap", "pc", ...ns, "--from-literal=a=1"])).code).toBe(0);
    expect((await kubectl(["patch", "configmap", "pc", ...ns, "--type=merge", "-p", '{"data":{"b":"2"},"metadata":{"labels":{"tier":"x"}}}'])).stdout).toMatch(/patched/);
    expect((await kubectl(["patch", "configmap", "pc", ...ns, "--type=json", "-p", '[{"op":"remove","path":"/data/a"}]'])).code).toBe(0);
    expect(kube.get("configmaps", "shop", "pc")!.data).toEqual({ b: "2" });
    const d = await kubectl(["patch", "deployment", "web", ...ns, "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}']);
    expect(d.code, d.stderr).toBe(0);
    const containers = kube.get("deployments", "shop", "web")!.spec.template.spec.containers;
    expect(containers).toHaveLength(1);
    expect(containers[0]).toMatchObject({ name: "web", image: "nginx:1.27", env: [{ name: "MODE", value: "two" }] });

    const onA = await kubectl(["get", "pods", ...ns, "--field-selector", "spec.nodeName=node-a", "-o", "name"]);
    const expected = kube.list("pods", "shop").filter((p) => p.spec.nodeName === "node-a");
    expect(onA.stdout.trim().split("\n").filter(Boolean).sort()).toEqual(expected.map((p) => `pod/${p.metadata.name}`).sort());
    expect((await kubectl(["get", "configmaps", ...ns, "-l", "tier in (x,y)", "-o", "name"])).stdout).toBe("configmap/pc\n");
    const del = await kubectl(["delete", "configmaps", ...ns, "-l", "tier=x"]);
    expect(del.stdout).toBe('configmap "pc" deleted\n');
    expect(kube.get("configmaps", "shop", "pc")).toBeUndefined();
  });

  test("logs returns the text the test set", async () => {
    const pod = kube.list("pods", "shop")[0];
    kube.setPodLog("shop", pod.metadata.name!, "line 1\nline 2\nline 3\n");
    const logs = await kubectl(["logs", "-n", "shop", pod.metadata.name!, "--tail=2"]);
    expect(logs.stdout).toBe("line 2\nline 3\n");
  });

  for (const mode of ["websocket", "spdy"] as const) {
    test(`port-forward (${mode}) reaches a real server and carries 1 MiB both ways`, async () => {
      const pod = runningPod();
      kube.forwardPort("default", pod.metadata.name!, 8899, hubPort);
      kube.forwardPort("default", pod.metadata.name!, 7777, echoPort);
      const env: Record<string, string> = mode === "spdy" ? { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" } : {};
      const before = kube.requests.length;
      const pf = await kubectlUntil(["port-forward", "-n", "default", `pod/${pod.metadata.name}`, ":8899", ":7777"], /127\.0\.0\.1:(\d+) -> 8899[\s\S]*127\.0\.0\.1:(\d+) -> 7777/, env);
      const [httpPort, echoLocal] = [Number(pf.match[1]), Number(pf.match[2])];
      const body = await (await fetch(`http://127.0.0.1:${httpPort}/api/health`)).text();
      expect(body).toBe("hub saw GET /api/health");
      // Concurrent connections are separate stream pairs in one session.
      const many = await Promise.all(
        [1, 2, 3, 4, 5].map(async (i) => (await fetch(`http://127.0.0.1:${httpPort}/c${i}`, { headers: { connection: "close" } })).text()),
      );
      expect(many).toEqual([1, 2, 3, 4, 5].map((i) => `hub saw GET /c${i}`));
      const upgrade = kube.requests.slice(before).find((r) => r.subresource === "portforward")!;
      expect(upgrade.method).toBe(mode === "spdy" ? "POST" : "GET");

      const payload = Buffer.alloc(1 << 20);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
      const got = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let n = 0;
        const s = connect(echoLocal, "127.0.0.1", () => s.write(payload));
        s.on("data", (d) => {
          chunks.push(d);
          n += d.length;
          if (n >= payload.length) {
            s.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        s.on("error", reject);
        setTimeout(() => reject(new Error(`echo: ${n} of ${payload.length} bytes`)), 15_000);
      });
      const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
      expect(sha(got)).toBe(sha(payload));
      pf.child.kill("SIGTERM");
    });
  }

  test("port-forward to an unmapped port reports the kubelet's error", async () => {
    const pod = runningPod();
    const pf = await kubectlUntil(["port-forward", "-n", "default", `pod/${pod.metadata.name}`, ":9999"], /127\.0\.0\.1:(\d+) -> 9999/);
    await fetch(`http://127.0.0.1:${pf.match[1]}/`).catch(() => undefined);
    await waitOutput(pf.out, /error forwarding port 9999/);
    pf.child.kill("SIGTERM");
  });
});
