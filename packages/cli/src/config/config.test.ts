import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { applySet, defaultConfigYaml, loadConfig, writeDefaultConfig } from "./load.js";
import { defaultConfig } from "./schema.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "tapline-config-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("settings", () => {
  it("prints the full default tree, and loading what -r writes yields the defaults", () => {
    expect(parse(defaultConfigYaml())).toEqual(defaultConfig());
    expect(parse(defaultConfigYaml()).tap).toMatchObject({ tls: false, mesh: false });
    const file = writeDefaultConfig(join(tmp(), "sub", "config.yaml"));
    expect(loadConfig(file)).toEqual(defaultConfig());
  });

  it("file values override defaults; --set overrides the file", () => {
    const file = join(tmp(), "config.yaml");
    writeFileSync(file, "tap:\n  tls: true\n  storageLimit: 1Gi\nproxy:\n  port: 9000\nworker:\n  nodeSelector: {pool: apps}\n");
    const c = loadConfig(file);
    expect(c.tap.tls).toBe(true);
    expect(c.tap.storageLimit).toBe("1Gi");
    expect(c.proxy.port).toBe(9000);
    expect(c.worker.nodeSelector).toEqual({ pool: "apps" });
    expect(c.tap.podRegex).toBe(".*");
    expect(c.tap.mesh).toBe(false);
    applySet(c, ["tap.tls=false", "proxy.port=9100", "tap.namespaces=[a, b]", "image.tag=123", "tap.mesh=true"]);
    expect(c.tap.tls).toBe(false);
    expect(c.tap.mesh).toBe(true);
    expect(c.proxy.port).toBe(9100);
    expect(c.tap.namespaces).toEqual(["a", "b"]);
    expect(c.image.tag).toBe("123");
  });

  it("rejects unknown keys and wrong kinds with the path", () => {
    const file = join(tmp(), "config.yaml");
    writeFileSync(file, "tap:\n  tls: maybe\n");
    expect(() => loadConfig(file)).toThrow(/'tap.tls' must be a boolean, got string/);
    writeFileSync(file, "tap:\n  mesh: [yes]\n");
    expect(() => loadConfig(file)).toThrow(/'tap.mesh' must be a boolean, got list/);
    writeFileSync(file, "tapp: {}\n");
    expect(() => loadConfig(file)).toThrow(/unknown setting 'tapp'/);
    expect(() => applySet(defaultConfig(), ["noequals"])).toThrow(/expected path=value/);
    expect(() => applySet(defaultConfig(), ["proxy.port=[1]"])).toThrow(/'proxy.port' must be a number, got list/);
  });
});
