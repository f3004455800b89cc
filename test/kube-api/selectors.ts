// Label and field selectors as the API server parses them from `labelSelector=` and
// `fieldSelector=` (k8s.io/apimachinery/pkg/labels and pkg/fields grammar):
//   labels:  key | !key | key=v | key==v | key!=v | key in (a,b) | key notin (a,b) | key>n | key<n
//   fields:  path=v | path==v | path!=v   (only fields the resource supports)
import { badRequest } from "./status.js";

type LabelOp = "exists" | "!exists" | "=" | "!=" | "in" | "notin" | ">" | "<";

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/;

export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (!selector) return [];
  const reqs: LabelRequirement[] = [];
  for (const part of splitTop(selector)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      reqs.push({ key: m[1], op: m[2] as LabelOp, values: m[3].split(",").map((v) => v.trim()).filter((v) => v !== "") });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/))) {
      const op = m[2] === "==" ? "=" : (m[2] as LabelOp);
      reqs.push({ key: m[1], op, values: [m[3]] });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: m[1], op: "!exists", values: [] });
    } else if ((m = part.match(/^(\S+)$/))) {
      reqs.push({ key: m[1], op: "exists", values: [] });
    } else {
      throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    const key = reqs[reqs.length - 1].key;
    if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  }
  return reqs;
}

export function matchLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "exists":
        if (!has) return false;
        break;
      case "!exists":
        if (has) return false;
        break;
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v)) return false;
        break;
      case ">":
      case "<": {
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (!has || Number.isNaN(n)) return false;
        if (r.op === ">" ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

/** spec.selector (matchLabels + matchExpressions) of workloads and services, as requirements. */
export function selectorFromLabelSelector(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): LabelRequirement[] {
  const reqs: LabelRequirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, op: "=", values: [v] }));
  for (const e of sel.matchExpressions ?? []) {
    const op: LabelOp = e.operator === "In" ? "in" : e.operator === "NotIn" ? "notin" : e.operator === "Exists" ? "exists" : "!exists";
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

export interface FieldRequirement {
  path: string;
  op: "=" | "!=";
  value: string;
}

const COMMON_FIELDS = ["metadata.name", "metadata.namespace"];
/** The field labels each resource supports (pkg/registry/core/<r>/strategy.go ToSelectableFields). */
const RESOURCE_FIELDS: Record<string, string[]> = {
  pods: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
  events: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
  secrets: ["type"],
  namespaces: ["status.phase"],
  nodes: ["spec.unschedulable"],
  replicasets: ["status.replicas"],
};

export function parseFieldSelector(selector: string | undefined, resource: string): FieldRequirement[] {
  if (!selector) return [];
  const allowed = [...COMMON_FIELDS, ...(RESOURCE_FIELDS[resource] ?? [])];
  return splitTop(selector).map((part) => {
    const m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    if (!allowed.includes(m[1])) throw badRequest(`field label not supported: ${m[1]}`);
    return { path: m[1], op: m[2] === "!=" ? "!=" : "=", value: m[3] };
  });
}

function fieldValue(obj: Record<string, unknown>, path: string): string {
  // `source` on events is source.component in the real field set.
  const segs = path === "source" ? ["source", "component"] : path.split(".");
  let cur: unknown = obj;
  for (const s of segs) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[s];
  }
  if (cur === undefined || cur === null) return "";
  return String(cur);
}

export function matchFields(reqs: FieldRequirement[], obj: Record<string, unknown>): boolean {
  for (const r of reqs) {
    const v = fieldValue(obj, r.path);
    if (r.op === "=" ? v !== r.value : v === r.value) return false;
  }
  return true;
}
