// Controllers, lite: what kube-controller-manager, the scheduler and the kubelet would do to
// the objects, reduced to what clients observe. DaemonSets get one pod per eligible node,
// Deployments a ReplicaSet per template and the ReplicaSet its pods; owners' status follows
// the pods; deleting an owner deletes its dependents (background GC); a deleted namespace
// turns Terminating, loses its contents, then goes. Pods stay Pending until the test moves
// them (setPodReady / setPodImagePullBackOff), as no real kubelet runs.
import { createHash, randomBytes } from "node:crypto";
import { findResource, groupVersion, RESOURCES, type ResourceDef } from "./discovery.js";
import { matchLabels, selectorFromLabelSelector } from "./selectors.js";
import { KubeError } from "./status.js";
import { clone, type Change, type KubeObject, type Store } from "./store.js";

const res = (group: string, resource: string) => findResource(group, "v1", resource)!;
const PODS = res("", "pods");
const NODES = res("", "nodes");
const EVENTS = res("", "events");
const NAMESPACES = res("", "namespaces");
const SERVICE_ACCOUNTS = res("", "serviceaccounts");
const SERVICES = res("", "services");
const ENDPOINTS = res("", "endpoints");
const DAEMONSETS = res("apps", "daemonsets");
const DEPLOYMENTS = res("apps", "deployments");
const REPLICASETS = res("apps", "replicasets");

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/** A short stable hash of a pod template, like the controllers' pod-template-hash. */
function templateHash(template: unknown): string {
  return createHash("sha256").update(JSON.stringify(template ?? {})).digest("hex").slice(0, 10);
}

function controllerOf(o: KubeObject): { uid: string; kind: string; name: string } | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

export function isPodReady(p: KubeObject): boolean {
  return (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True");
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}
interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

function tolerates(tolerations: Toleration[], t: Taint): boolean {
  return tolerations.some(
    (tol) =>
      (!tol.effect || tol.effect === t.effect) &&
      (tol.operator === "Exists" ? !tol.key || tol.key === t.key : tol.key === t.key && (tol.value ?? "") === (t.value ?? "")),
  );
}

function nodeEligible(node: KubeObject, podSpec: KubeObject["spec"]): boolean {
  const sel = podSpec?.nodeSelector as Record<string, string> | undefined;
  if (sel && !Object.entries(sel).every(([k, v]) => node.metadata.labels?.[k] === v)) return false;
  const taints: Taint[] = node.spec?.taints ?? [];
  const tolerations: Toleration[] = podSpec?.tolerations ?? [];
  return taints.filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute").every((t) => tolerates(tolerations, t));
}

type Container = { name: string; image: string };

/** Container statuses of a pod whose containers are not running yet. */
function waitingStatuses(containers: Container[], waiting: (c: Container) => { reason: string; message?: string }): unknown[] {
  return containers.map((c) => ({
    name: c.name,
    image: c.image,
    imageID: "",
    ready: false,
    started: false,
    restartCount: 0,
    state: { waiting: waiting(c) },
    lastState: {},
  }));
}

export interface ControllerOptions {
  /** How long a deleted namespace stays Terminating before its contents and itself go. */
  namespaceDeleteDelayMs: number;
  /** How long a deleted pod stays Terminating (its kubelet stopping it); 0 deletes at once. */
  podTerminationMs: number;
}

export class Controllers {
  private readonly queue = new Set<string>();
  private scheduled = false;
  private unsubscribe?: () => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private podIp = 10;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly opts: ControllerOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.store.subscribe((c) => this.onChange(c));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
  }

  private enqueue(key: string): void {
    this.queue.add(key);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    // Bounded: a reconcile that keeps re-enqueueing itself cannot spin the event loop.
    for (let round = 0; round < 50 && this.queue.size > 0 && !this.stopped; round++) {
      const keys = [...this.queue];
      this.queue.clear();
      for (const k of keys) {
        try {
          this.reconcile(k);
        } catch (e) {
          // Conflicts are retried on the next change, as real controllers requeue.
          if (!(e instanceof KubeError)) console.error(`kube-api controller ${k}:`, e);
        }
      }
    }
  }

  private onChange(c: Change): void {
    const m = c.object.metadata;
    const nsName = `${m.namespace ?? ""}/${m.name}`;
    switch (c.def.resource) {
      case "daemonsets":
        this.enqueue(`ds:${nsName}`);
        break;
      case "deployments":
        this.enqueue(`deploy:${nsName}`);
        break;
      case "replicasets":
        this.enqueue(`rs:${nsName}`);
        {
          const owner = controllerOf(c.object);
          if (owner?.kind === "Deployment") this.enqueue(`deploy:${m.namespace}/${owner.name}`);
        }
        break;
      case "nodes":
        for (const ds of this.store.list(DAEMONSETS)) this.enqueue(`ds:${ds.metadata.namespace}/${ds.metadata.name}`);
        break;
      case "services":
        this.enqueue(`ep:${nsName}`);
        break;
      case "pods": {
        for (const svc of this.store.list(SERVICES, m.namespace)) this.enqueue(`ep:${m.namespace}/${svc.metadata.name}`);
        const owner = controllerOf(c.object);
        if (owner?.kind === "DaemonSet") this.enqueue(`ds:${m.namespace}/${owner.name}`);
        if (owner?.kind === "ReplicaSet") this.enqueue(`rs:${m.namespace}/${owner.name}`);
        if (c.type === "ADDED" && !c.object.spec?.nodeName) this.enqueue(`schedule:${nsName}`);
        break;
      }
      case "namespaces":
        if (c.type === "ADDED") this.enqueue(`ns:${m.name}`);
        break;
    }
    if (c.type === "DELETED" && m.uid) this.enqueue(`gc:${m.uid}`);
  }

  private reconcile(key: string): void {
    const [kind, rest] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    const [ns, name] = rest.includes("/") ? rest.split("/") : ["", rest];
    switch (kind) {
      case "ds":
        return this.reconcileDaemonSet(ns, name);
      case "deploy":
        return this.reconcileDeployment(ns, name);
      case "rs":
        return this.reconcileReplicaSet(ns, name);
      case "schedule":
        return this.schedule(ns, name);
      case "gc":
        return this.collectDependents(rest);
      case "ns":
        return this.ensureDefaultServiceAccount(name);
      case "ep":
        return this.reconcileEndpoints(ns, name);
    }
  }

  // ---- namespaces ----

  private ensureDefaultServiceAccount(ns: string): void {
    if (!this.store.namespaceExists(ns) || this.store.get(SERVICE_ACCOUNTS, ns, "default")) return;
    this.store.create(SERVICE_ACCOUNTS, { metadata: { name: "default", namespace: ns } });
  }

  /** The namespace controller: contents go after a short Terminating phase, then the namespace. */
  terminateNamespace(name: string): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      for (const d of RESOURCES) {
        if (!d.namespaced) continue;
        for (const o of this.store.list(d, name)) this.store.purge(d, name, o.metadata.name!);
      }
      this.store.purge(NAMESPACES, undefined, name);
    }, this.opts.namespaceDeleteDelayMs);
    this.timers.add(t);
  }

  // ---- endpoints ----

  /** The endpoints controller: a service's selected pods with an IP, ready or not, per port. */
  private reconcileEndpoints(ns: string, name: string): void {
    const svc = this.store.get(SERVICES, ns, name);
    const existing = this.store.get(ENDPOINTS, ns, name);
    if (!svc) {
      if (existing) this.store.delete(ENDPOINTS, ns, name);
      return;
    }
    const selector = svc.spec?.selector as Record<string, string> | undefined;
    if (!selector || Object.keys(selector).length === 0) return; // endpoints of selector-less services are the user's
    const reqs = selectorFromLabelSelector({ matchLabels: selector });
    const pods = this.store.list(PODS, ns).filter((p) => p.status?.podIP && !p.metadata.deletionTimestamp && matchLabels(reqs, p.metadata.labels));
    const address = (p: KubeObject) => ({
      ip: p.status.podIP,
      ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
      targetRef: { kind: "Pod", namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
    });
    const ready = pods.filter(isPodReady).map(address);
    const notReady = pods.filter((p) => !isPodReady(p)).map(address);
    const ports = (svc.spec?.ports ?? []).map((sp: { name?: string; port: number; targetPort?: number | string; protocol?: string }) => {
      let port = typeof sp.targetPort === "number" ? sp.targetPort : sp.port;
      if (typeof sp.targetPort === "string") {
        // A named target port resolves against the pods' container ports.
        const named = pods.flatMap((p) => p.spec?.containers ?? []).flatMap((c: { ports?: { name?: string; containerPort: number }[] }) => c.ports ?? []).find((cp) => cp.name === sp.targetPort);
        if (named) port = named.containerPort;
      }
      return { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? "TCP" };
    });
    const subsets = ready.length + notReady.length > 0 ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports }] : undefined;
    const body: KubeObject = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name, namespace: ns, ...(svc.metadata.labels ? { labels: svc.metadata.labels } : {}) },
      ...(subsets ? { subsets } : {}),
    };
    if (!existing) {
      this.store.create(ENDPOINTS, body);
      return;
    }
    body.metadata = { ...existing.metadata, labels: body.metadata.labels };
    this.store.update(ENDPOINTS, body);
  }

  /**
   * Deletes a pod as the kubelet would: with a grace period it is Terminating (deletionTimestamp
   * set) for podTerminationMs, then gone; gracePeriodSeconds=0 deletes at once.
   */
  deletePod(ns: string, name: string, opts: { gracePeriodSeconds?: number; dryRun?: boolean; precondition?: { uid?: string; resourceVersion?: string } } = {}): KubeObject {
    const pod = this.store.mustGet(PODS, ns, name);
    const grace = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (this.opts.podTerminationMs <= 0 || grace === 0 || opts.dryRun || pod.metadata.finalizers?.length) {
      return this.store.delete(PODS, ns, name, opts);
    }
    if (pod.metadata.deletionTimestamp) return pod;
    if (opts.precondition) this.store.delete(PODS, ns, name, { ...opts, dryRun: true });
    const marked = this.store.markDeleting(PODS, ns, name, (o) => {
      o.metadata.deletionGracePeriodSeconds = grace;
    });
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      if (this.store.get(PODS, ns, name)?.metadata.uid === marked.metadata.uid) this.store.purge(PODS, ns, name);
    }, this.opts.podTerminationMs);
    this.timers.add(t);
    return marked;
  }

  private deleteAny(d: ResourceDef, ns: string | undefined, name: string): void {
    if (d === PODS) this.deletePod(ns!, name);
    else this.store.delete(d, ns, name);
  }

  // ---- garbage collection ----

  private collectDependents(uid: string): void {
    for (const d of RESOURCES) {
      for (const o of this.store.list(d)) {
        if (!o.metadata.ownerReferences?.some((r) => r.uid === uid)) continue;
        if (o.metadata.ownerReferences.length > 1) {
          o.metadata.ownerReferences = o.metadata.ownerReferences.filter((r) => r.uid !== uid);
          this.store.update(d, o);
        } else if (!o.metadata.deletionTimestamp) {
          this.deleteAny(d, o.metadata.namespace, o.metadata.name!);
        }
      }
    }
  }

  // ---- pods ----

  private ownedPods(owner: KubeObject): KubeObject[] {
    return this.store.list(PODS, owner.metadata.namespace).filter((p) => controllerOf(p)?.uid === owner.metadata.uid);
  }

  private newPod(owner: KubeObject, def: ResourceDef, template: KubeObject, extraLabels: Record<string, string>, nodeName?: string): KubeObject {
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${owner.metadata.name}-`,
        namespace: owner.metadata.namespace,
        labels: { ...template.metadata?.labels, ...extraLabels },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [{ apiVersion: groupVersion(def), kind: def.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: clone(template.spec ?? {}),
    };
    if (nodeName) pod.spec.nodeName = nodeName;
    pod.status = this.pendingStatus(pod);
    const created = this.store.create(PODS, pod, { keepStatus: true });
    this.addEvent(owner, { reason: "SuccessfulCreate", message: `Created pod: ${created.metadata.name}`, component: def.kind === "DaemonSet" ? "daemonset-controller" : "replicaset-controller" });
    if (nodeName) this.addEvent(created, { reason: "Scheduled", message: `Successfully assigned ${created.metadata.namespace}/${created.metadata.name} to ${nodeName}`, component: "default-scheduler" });
    return created;
  }

  private pendingStatus(pod: KubeObject): KubeObject["status"] {
    const scheduled = !!pod.spec?.nodeName;
    return {
      phase: "Pending",
      qosClass: "BestEffort",
      conditions: [{ type: "PodScheduled", status: scheduled ? "True" : "False", lastTransitionTime: now(), ...(scheduled ? {} : { reason: "Unschedulable", message: "0/0 nodes are available" }) }],
      ...(scheduled
        ? {
            hostIP: this.nodeIp(pod.spec.nodeName),
            startTime: now(),
            containerStatuses: waitingStatuses(pod.spec?.containers ?? [], () => ({ reason: "ContainerCreating" })),
          }
        : {}),
    };
  }

  private nodeIp(nodeName: string): string {
    const node = this.store.get(NODES, undefined, nodeName);
    const addr = (node?.status?.addresses ?? []).find((a: { type: string }) => a.type === "InternalIP");
    return addr?.address ?? "10.0.0.1";
  }

  /** The scheduler: an unscheduled pod goes to the eligible node with the fewest pods. */
  private schedule(ns: string, name: string): void {
    const pod = this.store.get(PODS, ns, name);
    if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp) return;
    const nodes = this.store.list(NODES).filter((n) => nodeEligible(n, pod.spec));
    if (nodes.length === 0) {
      pod.status = this.pendingStatus(pod);
      this.store.update(PODS, pod, { subresource: "status" });
      return;
    }
    const counts = new Map(nodes.map((n) => [n.metadata.name!, 0]));
    for (const p of this.store.list(PODS)) if (counts.has(p.spec?.nodeName)) counts.set(p.spec.nodeName, counts.get(p.spec.nodeName)! + 1);
    const target = [...counts.entries()].sort((a, b) => a[1] - b[1])[0][0];
    pod.spec.nodeName = target;
    // spec.nodeName is set through the binding subresource in real clusters; here a plain write.
    const bound = this.store.update(PODS, pod);
    bound.status = this.pendingStatus(bound);
    const scheduled = this.store.update(PODS, bound, { subresource: "status" });
    this.addEvent(scheduled, { reason: "Scheduled", message: `Successfully assigned ${ns}/${name} to ${target}`, component: "default-scheduler" });
  }

  setPodReady(ns: string, name: string): KubeObject {
    const pod = this.store.mustGet(PODS, ns, name);
    const t = now();
    const n = this.podIp++;
    pod.status = {
      ...pod.status,
      phase: "Running",
      podIP: pod.status?.podIP ?? `10.244.${(n >> 8) & 255}.${n & 255}`,
      hostIP: pod.status?.hostIP ?? (pod.spec?.nodeName ? this.nodeIp(pod.spec.nodeName) : "10.0.0.1"),
      startTime: pod.status?.startTime ?? t,
      conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastTransitionTime: t })),
      containerStatuses: (pod.spec?.containers ?? []).map((c: { name: string; image: string }) => ({
        name: c.name,
        image: c.image,
        imageID: `${c.image}@sha256:${createHash("sha256").update(c.image).digest("hex")}`,
        containerID: `containerd://${randomBytes(32).toString("hex")}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: t } },
        lastState: {},
      })),
    };
    pod.status.podIPs = [{ ip: pod.status.podIP }];
    const ready = this.store.update(PODS, pod, { subresource: "status" });
    // What the kubelet reports on the way to Running, so `describe` and event listings look real.
    for (const c of pod.spec?.containers ?? []) {
      this.addEvent(ready, { reason: "Pulled", message: `Container image "${c.image}" already present on machine`, component: "kubelet" });
      this.addEvent(ready, { reason: "Created", message: `Created container ${c.name}`, component: "kubelet" });
      this.addEvent(ready, { reason: "Started", message: `Started container ${c.name}`, component: "kubelet" });
    }
    return ready;
  }

  /** The kubelet failing to pull an image: the container waits with `reason`, and Events say why. */
  setPodImagePullBackOff(ns: string, name: string, message: string, reason: "ImagePullBackOff" | "ErrImagePull" = "ImagePullBackOff"): KubeObject {
    const pod = this.store.mustGet(PODS, ns, name);
    const containers: { name: string; image: string }[] = pod.spec?.containers ?? [];
    pod.status = {
      ...pod.status,
      phase: "Pending",
      conditions: [
        { type: "PodScheduled", status: "True", lastTransitionTime: now() },
        { type: "Ready", status: "False", lastTransitionTime: now(), reason: "ContainersNotReady", message: `containers with unready status: [${containers.map((c) => c.name).join(" ")}]` },
      ],
      containerStatuses: waitingStatuses(containers, (c) => ({
        reason,
        message: reason === "ErrImagePull" ? message : `Back-off pulling image "${c.image}": ErrImagePull: ${message}`,
      })),
    };
    const updated = this.store.update(PODS, pod, { subresource: "status" });
    const image = containers[0]?.image ?? "";
    this.addEvent(updated, { type: "Warning", reason: "Failed", message: `Failed to pull image "${image}": ${message}`, component: "kubelet" });
    if (reason === "ImagePullBackOff") this.addEvent(updated, { type: "Warning", reason: "BackOff", message: `Back-off pulling image "${image}"`, component: "kubelet" });
    return updated;
  }

  /** Records a core/v1 Event about `obj`, as a component would. */
  addEvent(obj: KubeObject, e: { type?: string; reason: string; message: string; component?: string }): KubeObject {
    const t = now();
    const namespace = obj.metadata.namespace ?? "default";
    return this.store.create(EVENTS, {
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString("hex")}`, namespace },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason: e.reason,
      message: e.message,
      type: e.type ?? "Normal",
      source: { component: e.component ?? "tapline-test" },
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      reportingComponent: e.component ?? "tapline-test",
      reportingInstance: "",
    });
  }

  // ---- DaemonSet ----

  private reconcileDaemonSet(ns: string, name: string): void {
    const ds = this.store.get(DAEMONSETS, ns, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const template = ds.spec?.template ?? {};
    const hash = templateHash(template);
    const nodes = this.store.list(NODES).filter((n) => nodeEligible(n, template.spec));
    const eligible = new Set(nodes.map((n) => n.metadata.name));
    let pods = this.ownedPods(ds).filter((p) => !p.metadata.deletionTimestamp);
    // Pods on nodes that are gone or no longer eligible, duplicates, and (rolling update) old templates go.
    const seen = new Set<string>();
    for (const p of pods) {
      const node = p.spec?.nodeName;
      const stale = p.metadata.labels?.["controller-revision-hash"] !== hash;
      if (!eligible.has(node) || seen.has(node) || stale) this.deletePod(ns, p.metadata.name!);
      else seen.add(node);
    }
    for (const n of nodes) {
      if (!seen.has(n.metadata.name!)) this.newPod(ds, DAEMONSETS, template, { "controller-revision-hash": hash, "pod-template-generation": String(ds.metadata.generation ?? 1) }, n.metadata.name);
    }
    pods = this.ownedPods(ds).filter((p) => !p.metadata.deletionTimestamp && eligible.has(p.spec?.nodeName));
    const ready = pods.filter(isPodReady).length;
    const updated = pods.filter((p) => p.metadata.labels?.["controller-revision-hash"] === hash).length;
    ds.status = {
      currentNumberScheduled: pods.length,
      desiredNumberScheduled: nodes.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      ...(nodes.length - ready > 0 ? { numberUnavailable: nodes.length - ready } : {}),
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata.generation,
    };
    if (ready === 0) delete ds.status.numberAvailable;
    this.store.update(DAEMONSETS, ds, { subresource: "status" });
  }

  // ---- Deployment and ReplicaSet ----

  private reconcileDeployment(ns: string, name: string): void {
    const d = this.store.get(DEPLOYMENTS, ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const template = d.spec?.template ?? {};
    const hash = templateHash(template);
    const replicas: number = d.spec?.replicas ?? 1;
    const owned = this.store.list(REPLICASETS, ns).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
    let current = owned.find((rs) => rs.metadata.labels?.["pod-template-hash"] === hash);
    if (!current) {
      const rs: KubeObject = {
        metadata: {
          name: `${name}-${hash}`,
          namespace: ns,
          labels: { ...template.metadata?.labels, "pod-template-hash": hash },
          annotations: { "deployment.kubernetes.io/revision": String(owned.length + 1), "deployment.kubernetes.io/desired-replicas": String(replicas) },
          ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          replicas,
          selector: { ...d.spec?.selector, matchLabels: { ...d.spec?.selector?.matchLabels, "pod-template-hash": hash } },
          template: { ...clone(template), metadata: { ...template.metadata, labels: { ...template.metadata?.labels, "pod-template-hash": hash } } },
        },
      };
      current = this.store.create(REPLICASETS, rs);
      this.scaledEvent(d, current.metadata.name!, 0, replicas);
    } else if (current.spec?.replicas !== replicas) {
      this.scaledEvent(d, current.metadata.name!, current.spec?.replicas ?? 0, replicas);
      current.spec.replicas = replicas;
      current = this.store.update(REPLICASETS, current);
    }
    // Old ReplicaSets scale to zero (the end state of a rolling update).
    for (const rs of owned) {
      if (rs.metadata.uid === current.metadata.uid || rs.spec?.replicas === 0) continue;
      this.scaledEvent(d, rs.metadata.name!, rs.spec?.replicas ?? 0, 0);
      rs.spec.replicas = 0;
      this.store.update(REPLICASETS, rs);
    }
    const all = this.store.list(REPLICASETS, ns).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
    const sum = (f: (rs: KubeObject) => number) => all.reduce((n, rs) => n + f(rs), 0);
    const total = sum((rs) => rs.status?.replicas ?? 0);
    const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
    const updatedReplicas = current.status?.replicas ?? 0;
    const available = ready >= replicas;
    d.status = {
      observedGeneration: d.metadata.generation,
      replicas: total,
      updatedReplicas,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(total - ready > 0 ? { unavailableReplicas: total - ready } : {}),
      conditions: [
        {
          type: "Available",
          status: available ? "True" : "False",
          reason: available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          message: available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
        },
        {
          type: "Progressing",
          status: "True",
          reason: available && updatedReplicas === replicas ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
          message: `ReplicaSet "${current.metadata.name}" ${available && updatedReplicas === replicas ? "has successfully progressed." : "is progressing."}`,
        },
      ],
    };
    for (const k of ["readyReplicas", "availableReplicas", "replicas", "updatedReplicas"]) if (d.status[k] === 0) delete d.status[k];
    // Condition timestamps stay as they were unless the status changes, so no-op reconciles write nothing.
    const prev = this.store.get(DEPLOYMENTS, ns, name);
    for (const c of d.status.conditions) {
      const old = (prev?.status?.conditions ?? []).find((o: { type: string }) => o.type === c.type);
      c.lastUpdateTime = old && old.status === c.status && old.reason === c.reason ? old.lastUpdateTime : now();
      c.lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now();
    }
    this.store.update(DEPLOYMENTS, d, { subresource: "status" });
  }

  /** The deployment controller's "ScalingReplicaSet" event. */
  private scaledEvent(d: KubeObject, rs: string, from: number, to: number): void {
    this.addEvent(d, { reason: "ScalingReplicaSet", message: `Scaled ${to >= from ? "up" : "down"} replica set ${rs} from ${from} to ${to}`, component: "deployment-controller" });
  }

  private reconcileReplicaSet(ns: string, name: string): void {
    const rs = this.store.get(REPLICASETS, ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const want: number = rs.spec?.replicas ?? 1;
    const selector = selectorFromLabelSelector(rs.spec?.selector ?? {});
    let pods = this.ownedPods(rs).filter((p) => !p.metadata.deletionTimestamp && matchLabels(selector, p.metadata.labels));
    if (pods.length > want) {
      // Scale down: not-ready pods first, as the ReplicaSet controller ranks them.
      const victims = [...pods].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b))).slice(0, pods.length - want);
      for (const p of victims) this.deletePod(ns, p.metadata.name!);
    }
    for (let i = pods.length; i < want; i++) this.newPod(rs, REPLICASETS, rs.spec?.template ?? {}, {});
    pods = this.ownedPods(rs).filter((p) => !p.metadata.deletionTimestamp);
    const ready = pods.filter(isPodReady).length;
    rs.status = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    for (const k of ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"]) if (rs.status[k] === 0) delete rs.status[k];
    this.store.update(REPLICASETS, rs, { subresource: "status" });
  }
}
