// Patch formats and selector grammar of the test API server, on the cases the RFCs and
// kubectl's client-side apply exercise.
import { describe, expect, test } from "vitest";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from "./selectors.js";
import { KubeError } from "./status.js";

describe("JSON merge patch (RFC 7386)", () => {
  test("the RFC's example", () => {
    const target = { title: "Goodbye!", author: { givenName: "John", familyName: "Doe" }, tags: ["example", "sample"], content: "This will be unchanged" };
    const patch = { title: "Hello!", phoneNumber: "+01-123-456-7890", author: { familyName: null }, tags: ["example"] };
    expect(mergePatch(target, patch)).toEqual({ title: "Hello!", author: { givenName: "John" }, tags: ["example"], content: "This will be unchanged", phoneNumber: "+01-123-456-7890" });
  });
});

describe("JSON patch (RFC 6902)", () => {
  test("add, remove, replace, move, copy, test and the ~ escapes", () => {
    const doc = { a: { "b/c": 1, "d~e": 2 }, list: [1, 2, 3] };
    const out = jsonPatch(doc, [
      { op: "add", path: "/list/1", value: 9 },
      { op: "add", path: "/list/-", value: 4 },
      { op: "remove", path: "/a/b~1c" },
      { op: "replace", path: "/a/d~0e", value: 3 },
      { op: "copy", from: "/a/d~0e", path: "/copied" },
      { op: "move", from: "/copied", path: "/moved" },
      { op: "test", path: "/moved", value: 3 },
    ]);
    expect(out).toEqual({ a: { "d~e": 3 }, list: [1, 9, 2, 3, 4], moved: 3 });
    expect(doc.list).toEqual([1, 2, 3]);
  });

  test("failures are 422 errors, never crashes", () => {
    const fail = (ops: unknown) => {
      try {
        jsonPatch({ a: [1] }, ops);
      } catch (e) {
        return e instanceof KubeError ? e.code : -1;
      }
      return 0;
    };
    expect(fail([{ op: "test", path: "/a/0", value: 2 }])).toBe(422);
    expect(fail([{ op: "remove", path: "/nope" }])).toBe(422);
    expect(fail([{ op: "add", path: "/a/5", value: 1 }])).toBe(422);
    expect(fail([{ op: "replace", path: "/x/y", value: 1 }])).toBe(422);
    expect(fail([{ op: "bogus", path: "/a" }])).toBe(422);
    expect(fail({ not: "a list" })).toBe(400);
  });
});

describe("strategic merge patch", () => {
  const pod = {
    spec: {
      containers: [
        { name: "a", image: "a:1", env: [{ name: "X", value: "1" }], ports: [{ containerPort: 80 }] },
        { name: "b", image: "b:1" },
      ],
      tolerations: [{ operator: "Exists" }],
    },
    metadata: { finalizers: ["f1"] },
  };

  test("lists with a merge key merge by it; others are replaced", () => {
    const out = strategicMergePatch(pod, {
      spec: {
        containers: [{ name: "a", env: [{ name: "Y", value: "2" }], ports: [{ containerPort: 81 }] }, { name: "c", image: "c:1" }],
        tolerations: [{ key: "k", operator: "Equal", value: "v" }],
      },
    }) as typeof pod;
    expect(out.spec.containers.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(out.spec.containers[0].env).toEqual([
      { name: "X", value: "1" },
      { name: "Y", value: "2" },
    ]);
    expect(out.spec.containers[0].ports).toEqual([{ containerPort: 80 }, { containerPort: 81 }]);
    expect(out.spec.tolerations).toEqual([{ key: "k", operator: "Equal", value: "v" }]);
  });

  test("directives kubectl sends: $patch delete/replace, $setElementOrder, $retainKeys, $deleteFromPrimitiveList, null", () => {
    const out = strategicMergePatch(pod, {
      $setElementOrder: undefined,
      spec: {
        "$setElementOrder/containers": [{ name: "b" }],
        containers: [{ name: "a", $patch: "delete" }],
      },
      metadata: { "$deleteFromPrimitiveList/finalizers": ["f1"], finalizers: ["f2"], labels: { x: "1" } },
    }) as typeof pod & { metadata: { labels: Record<string, string> } };
    expect(out.spec.containers).toEqual([{ name: "b", image: "b:1" }]);
    expect(out.metadata.finalizers).toEqual(["f2"]);
    const replaced = strategicMergePatch(pod, { spec: { $patch: "replace", containers: [{ name: "z", image: "z:1" }] } });
    expect(replaced).toEqual({ spec: { containers: [{ name: "z", image: "z:1" }] }, metadata: { finalizers: ["f1"] } });
    const retained = strategicMergePatch({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } }, { strategy: { $retainKeys: ["type"], type: "Recreate" } });
    expect(retained).toEqual({ strategy: { type: "Recreate" } });
    const nulled = strategicMergePatch(pod, { spec: { tolerations: null } }) as { spec: Record<string, unknown> };
    expect(nulled.spec.tolerations).toBeUndefined();
  });
});

describe("selectors", () => {
  const labels = { app: "web", tier: "front", "app.kubernetes.io/part-of": "tapline" };
  const sel = (s: string) => matchLabels(parseLabelSelector(s), labels);

  test("label selector grammar", () => {
    expect(sel("app=web")).toBe(true);
    expect(sel("app==web,tier=front")).toBe(true);
    expect(sel("app!=web")).toBe(false);
    expect(sel("missing!=x")).toBe(true);
    expect(sel("tier in (back, front)")).toBe(true);
    expect(sel("tier notin (front)")).toBe(false);
    expect(sel("app.kubernetes.io/part-of")).toBe(true);
    expect(sel("!app.kubernetes.io/part-of")).toBe(false);
    expect(sel("!missing")).toBe(true);
    expect(sel("")).toBe(true);
    expect(() => parseLabelSelector("a b c")).toThrow(KubeError);
    expect(() => parseLabelSelector("-bad=1")).toThrow(/invalid label key/);
  });

  test("field selectors are limited to the fields a resource supports", () => {
    const pod = { metadata: { name: "p", namespace: "n" }, spec: { nodeName: "node-a" }, status: { phase: "Running" } };
    expect(matchFields(parseFieldSelector("spec.nodeName=node-a,status.phase!=Failed", "pods"), pod)).toBe(true);
    expect(matchFields(parseFieldSelector("metadata.name==q", "pods"), pod)).toBe(false);
    expect(() => parseFieldSelector("spec.nodeName=x", "configmaps")).toThrow(/field label not supported: spec.nodeName/);
  });
});
