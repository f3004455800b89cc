// Defaulting and allocation the real API server applies on create (pkg/apis/*/v1/defaults.go
// and the service IP allocator), limited to the fields clients commonly read back.
import type { ResourceDef } from "./discovery.js";
import type { KubeObject } from "./store.js";

let nextServiceIp = 10;

function defaultPodSpec(spec: KubeObject["spec"]): void {
  if (!spec) return;
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  // serviceAccount is the deprecated alias the server keeps equal to serviceAccountName.
  spec.serviceAccountName ??= spec.serviceAccount ?? "default";
  spec.serviceAccount = spec.serviceAccountName;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const image: string = c.image ?? "";
    const tagged = /:[^/]+$/.test(image) || image.includes("@");
    c.imagePullPolicy ??= !tagged || image.endsWith(":latest") ? "Always" : "IfNotPresent";
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
    for (const p of c.ports ?? []) p.protocol ??= "TCP";
  }
}

/** The status a new object starts with (whatever the client sent). */
export function initialStatus(def: ResourceDef, o: KubeObject): void {
  switch (def.resource) {
    case "namespaces":
      o.status = { phase: "Active" };
      break;
    case "pods":
      o.status = { phase: "Pending", qosClass: "BestEffort" };
      break;
    case "services":
      o.status = { loadBalancer: {} };
      break;
    case "deployments":
      o.status = {};
      break;
    case "daemonsets":
      o.status = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
      break;
    case "replicasets":
      o.status = { replicas: 0 };
      break;
  }
}

/**
 * Fills in defaults, in place. Idempotent: the real server defaults every object it decodes,
 * so writes (update, patch, apply) that drop a defaulted field get it back.
 */
export function applyDefaults(def: ResourceDef, o: KubeObject): void {
  o.metadata ??= {};
  switch (def.resource) {
    case "namespaces":
      o.metadata.labels = { ...o.metadata.labels, "kubernetes.io/metadata.name": o.metadata.name ?? "" };
      o.spec = { finalizers: ["kubernetes"], ...o.spec };
      break;
    case "pods":
      defaultPodSpec(o.spec);
      break;
    case "services": {
      o.spec ??= {};
      o.spec.type ??= "ClusterIP";
      o.spec.sessionAffinity ??= "None";
      if (o.spec.clusterIP === undefined && o.spec.type !== "ExternalName") {
        const n = nextServiceIp++;
        o.spec.clusterIP = `10.96.${(n >> 8) & 255}.${n & 255}`;
        o.spec.clusterIPs = [o.spec.clusterIP];
      }
      o.spec.ipFamilies ??= ["IPv4"];
      o.spec.ipFamilyPolicy ??= "SingleStack";
      o.spec.internalTrafficPolicy ??= "Cluster";
      for (const p of o.spec.ports ?? []) {
        p.protocol ??= "TCP";
        p.targetPort ??= p.port;
      }
      break;
    }
    case "deployments":
      o.spec ??= {};
      o.spec.replicas ??= 1;
      o.spec.revisionHistoryLimit ??= 10;
      o.spec.progressDeadlineSeconds ??= 600;
      o.spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
      defaultPodSpec(o.spec.template?.spec);
      break;
    case "daemonsets":
      o.spec ??= {};
      o.spec.revisionHistoryLimit ??= 10;
      o.spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      defaultPodSpec(o.spec.template?.spec);
      break;
    case "replicasets":
      o.spec ??= {};
      o.spec.replicas ??= 1;
      defaultPodSpec(o.spec.template?.spec);
      break;
    case "secrets":
      o.type ??= "Opaque";
      break;
    case "priorityclasses":
      o.preemptionPolicy ??= "PreemptLowerPriority";
      break;
  }
}
