import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { generateChart, chartValues } from "./generate.js";
import { renderTemplate } from "./render.js";
import { buildManifests } from "../manifests/build.js";
import { defaultConfig, manifestValuesOf, type ManifestValues } from "../config/schema.js";

const chartDir = fileURLToPath(new URL("../../../../deploy/helm/tapline", import.meta.url));

function renderChart(values: object, namespace: string): unknown[] {
  const ctx = { Values: values, Release: { Namespace: namespace, Name: "tapline" } };
  const order = buildManifests({ namespace, token: "t", values: manifestValuesOf(defaultConfig()) }).map((o) => o.kind!.toLowerCase());
  return order
    .map((k) => readFileSync(join(chartDir, "templates", `${k}.yaml`), "utf8"))
    .flatMap((t) => parseAllDocuments(renderTemplate(t, ctx)).map((d) => d.toJS()))
    .filter((d) => d !== null);
}

describe("Helm chart", () => {
  it("on disk equals a fresh generation (run `pnpm -C packages/cli gen-chart` after changing manifests)", () => {
    const fresh = generateChart();
    // `pnpm gen-chart` sets UPDATE_CHART=1: this test then writes the chart it checks.
    if (process.env.UPDATE_CHART) {
      rmSync(join(chartDir, "templates"), { recursive: true, force: true });
      for (const f of fresh) {
        mkdirSync(dirname(join(chartDir, f.path)), { recursive: true });
        writeFileSync(join(chartDir, f.path), f.content);
      }
    }
    const onDisk = readdirSync(join(chartDir, "templates")).map((f) => `templates/${f}`).concat(["Chart.yaml", "values.yaml"]);
    expect(fresh.map((f) => f.path).sort()).toEqual(onDisk.sort());
    for (const f of fresh) expect(readFileSync(join(chartDir, f.path), "utf8"), f.path).toBe(f.content);
  });

  const variants: Array<[string, (v: ManifestValues) => void]> = [
    ["defaults", () => {}],
    [
      "TLS, a private registry, node selector, tolerations and a target",
      (v) => {
        v.tap.tls = true;
        v.tap.podRegex = "(catalo.*|front-end.*)\\d?";
        v.tap.namespaces = ["sock-shop", "orders"];
        v.tap.redact = ["x-session", "^secret_.*$"];
        v.tap.defaultRedact = false;
        v.image.registry = "registry.local:5000/mirror";
        v.image.tag = "dev-1";
        v.worker.nodeSelector = { "kubernetes.io/os": "linux", pool: "apps" };
        v.worker.tolerations = [{ key: "dedicated", operator: "Equal", value: "apps", effect: "NoSchedule" }];
        v.hub.resources.limits.memory = "2Gi";
      },
    ],
    ["mesh without TLS (hostPID from either flag)", (v) => { v.tap.mesh = true; }],
    ["mesh and TLS (SYS_PTRACE once)", (v) => { v.tap.mesh = true; v.tap.tls = true; }],
  ];
  for (const [name, tweak] of variants) {
    it(`renders the same objects as the CLI: ${name}`, () => {
      const values = manifestValuesOf(defaultConfig());
      tweak(values);
      const cli = buildManifests({ namespace: "tapline-x", token: "s3cret-token", values });
      const helmValues = { ...chartValues(), ...structuredClone(values), createNamespace: true };
      Object.assign(helmValues.hub, { token: "s3cret-token" });
      const rendered = renderChart(helmValues, "tapline-x");
      expect(rendered).toEqual(JSON.parse(JSON.stringify(cli)));
    });
  }

  it("leaves the namespace to helm unless createNamespace, and requires a token", () => {
    const values = { ...chartValues(), hub: { ...chartValues().hub, token: "abc" } };
    const kinds = renderChart(values, "ns1").map((o) => (o as { kind: string }).kind);
    expect(kinds).not.toContain("Namespace");
    expect(() => renderChart(chartValues(), "ns1")).toThrow(/set hub.token/);
  });
});
