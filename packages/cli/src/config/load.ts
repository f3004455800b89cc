// Loading and merging the settings tree: defaults < config file < flags < --set.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, parseDocument, stringify } from "yaml";
import { UsageError } from "../errors.js";
import { defaultConfig, type TaplineConfig } from "./schema.js";

export function configPath(): string {
  return process.env.TAPLINE_CONFIG ?? join(homedir(), ".tapline", "config.yaml");
}

export function defaultConfigYaml(): string {
  return "# Tapline settings; flags override them and --set path=value overrides both.\n" + stringify(defaultConfig());
}

export function writeDefaultConfig(path = configPath()): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, defaultConfigYaml());
  return path;
}

/** Reads the config file over the defaults; a missing file means defaults. */
export function loadConfig(path = configPath()): TaplineConfig {
  const config = defaultConfig();
  if (!existsSync(path)) return config;
  const doc = parseDocument(readFileSync(path, "utf8"));
  if (doc.errors.length) throw new UsageError(`${path}: ${doc.errors[0].message}`);
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) return config;
  mergeInto(config as unknown as Tree, data, path, "");
  return config;
}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Type-checked deep merge: every key must exist in the defaults with the same kind of value. */
function mergeInto(target: Tree, src: unknown, origin: string, prefix: string): void {
  if (!isTree(src)) throw new UsageError(`${origin}: '${prefix || "(root)"}' must be a mapping`);
  for (const [k, v] of Object.entries(src)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!(k in target)) throw new UsageError(`${origin}: unknown setting '${path}' (see 'tapline config')`);
    const cur = target[k];
    if (isFreeMap(path)) {
      if (!isTree(v)) throw new UsageError(`${origin}: '${path}' must be a mapping`);
      target[k] = v;
    } else if (isTree(cur)) {
      mergeInto(cur, v, origin, path);
    } else {
      target[k] = checkLeaf(cur, v, origin, path);
    }
  }
}

/** Maps whose keys are the user's (node labels), not settings names. */
function isFreeMap(path: string): boolean {
  return path === "worker.nodeSelector";
}

function checkLeaf(cur: unknown, v: unknown, origin: string, path: string): unknown {
  const kind = Array.isArray(cur) ? "list" : typeof cur;
  const got = Array.isArray(v) ? "list" : typeof v;
  if (kind === "number" && got === "string" && /^\d+$/.test(v as string)) return Number(v);
  if (kind === "string" && (got === "number" || got === "boolean")) return String(v);
  if (kind !== got) throw new UsageError(`${origin}: '${path}' must be a ${kind}, got ${got}`);
  return v;
}

/** `--set a.b=value`: value is a YAML scalar or flow collection (`true`, `8899`, `[a,b]`). */
export function applySet(config: TaplineConfig, assignments: string[]): void {
  for (const a of assignments) {
    const i = a.indexOf("=");
    if (i <= 0) throw new UsageError(`invalid --set '${a}': expected path=value, e.g. --set tap.tls=true`);
    const path = a.slice(0, i).trim();
    let value: unknown;
    try {
      value = parse(a.slice(i + 1));
    } catch (err) {
      throw new UsageError(`invalid --set '${a}': ${(err as Error).message}`);
    }
    const keys = path.split(".");
    const patch: Tree = {};
    let node = patch;
    keys.forEach((k, idx) => {
      if (idx === keys.length - 1) node[k] = value ?? "";
      else node = node[k] = {} as Tree;
    });
    mergeInto(config as unknown as Tree, patch, "--set", "");
  }
}
