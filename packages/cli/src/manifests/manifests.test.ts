import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { V1ClusterRole, V1DaemonSet, V1Deployment } from "@kubernetes/client-node";
import { buildManifests, manifestsToYaml } from "./index.js";
import { defaultConfig, manifestValuesOf } from "../config/schema.js";
import { PART_OF_LABEL } from "../defaults.js";

function build(tls: boolean, mesh = false) {
  const values = manifestValuesOf(defaultConfig());
  values.tap.tls = tls;
  values.tap.mesh = mesh;
  values.image.registry = "mirror.local/tap";
  return buildManifests({ namespace: "tl", token: "tok", values });
}
const byKind = <T>(objs: ReturnType<typeof build>, kind: string) => objs.find((o) => o.kind === kind) as T;

describe("manifests", () => {
  it("labels every object as ours and round-trips through YAML", () => {
    const objs = build(false);
    expect(objs.map((o) => o.kind)).toEqual([
      "Namespace", "PriorityClass", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
      "Secret", "ConfigMap", "Service", "Deployment", "DaemonSet",
    ]);
    for (const o of objs) expect(o.metadata?.labels?.[PART_OF_LABEL]).toBe("tapline");
    const docs = parseAllDocuments(manifestsToYaml(objs)).map((d) => d.toJS());
    expect(docs).toEqual(JSON.parse(JSON.stringify(objs)));
  });

  it("grants only get/list/watch on pods, services, endpoints, namespaces, nodes", () => {
    const role = byKind<V1ClusterRole>(build(false), "ClusterRole");
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["pods", "services", "endpoints", "namespaces", "nodes"], verbs: ["get", "list", "watch"] }]);
  });

  it("never runs privileged; TLS adds hostPID, --tls and the eBPF capabilities", () => {
    for (const tls of [false, true]) {
      const ds = byKind<V1DaemonSet>(build(tls), "DaemonSet");
      const spec = ds.spec!.template.spec!;
      expect(spec.hostNetwork).toBe(true);
      expect(spec.hostPID).toBe(tls);
      expect(spec.containers.map((c) => c.name)).toEqual(["worker"]);
      const capture = spec.containers[0];
      expect(capture.args?.includes("--tls")).toBe(tls);
      expect(capture.securityContext?.privileged).toBe(false);
      expect(capture.securityContext?.capabilities?.add).toEqual(
        tls ? ["NET_RAW", "NET_ADMIN", "BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"] : ["NET_RAW", "NET_ADMIN"],
      );
      for (const c of spec.containers) {
        expect(c.image).toBe(`mirror.local/tap/tapline-worker:${defaultConfig().image.tag}`);
        expect(c.resources?.limits).toBeDefined();
      }
    }
  });

  it("--mesh adds hostPID, --mesh, SYS_PTRACE and SYS_ADMIN, each capability once with --tls too", () => {
    const cases: Array<[boolean, boolean, string[]]> = [
      [false, false, ["NET_RAW", "NET_ADMIN"]],
      [false, true, ["NET_RAW", "NET_ADMIN", "SYS_PTRACE", "SYS_ADMIN"]],
      [true, true, ["NET_RAW", "NET_ADMIN", "BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE", "SYS_ADMIN"]],
    ];
    for (const [tls, mesh, caps] of cases) {
      const spec = byKind<V1DaemonSet>(build(tls, mesh), "DaemonSet").spec!.template.spec!;
      const worker = spec.containers[0];
      expect(spec.hostPID, `tls=${tls} mesh=${mesh}`).toBe(tls || mesh);
      expect(worker.args?.includes("--mesh")).toBe(mesh);
      expect(worker.args?.includes("--tls")).toBe(tls);
      expect(worker.securityContext?.capabilities?.add).toEqual(caps);
      expect(worker.securityContext?.privileged).toBe(false);
    }
  });

  it("runs the hub under Pod Security baseline: non-root, no escalation, no capabilities, no host namespaces", () => {
    const dep = byKind<V1Deployment>(build(true), "Deployment");
    const pod = dep.spec!.template.spec!;
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
    const sc = pod.containers[0].securityContext!;
    expect(sc.runAsNonRoot).toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities?.drop).toEqual(["ALL"]);
    expect(sc.capabilities?.add).toBeUndefined();
  });

  it("keeps the tap target out of the pod templates, so re-targeting never redeploys", () => {
    const a = manifestValuesOf(defaultConfig());
    const b = manifestValuesOf(defaultConfig());
    b.tap = { ...b.tap, podRegex: "other.*", namespaces: ["x"] };
    const ta = buildManifests({ namespace: "tl", token: "t", values: a });
    const tb = buildManifests({ namespace: "tl", token: "t", values: b });
    const templates = (objs: typeof ta) => objs.filter((o) => o.kind === "DaemonSet" || o.kind === "Deployment").map((o) => JSON.stringify(o));
    expect(templates(tb)).toEqual(templates(ta));
    expect(JSON.stringify(tb.find((o) => o.kind === "ConfigMap"))).toContain("other.*");
  });
});
