// `--names FILE` (local mode): a static "pod map" that names the IP addresses of a machine
// without a cluster, so entries and the service map read `shop/front-end` instead of 10.77.0.20.
//
// One mapping per line, `#` starts a comment:
//   IP  NAMESPACE/POD  [SERVICE]
//   10.77.0.20  demo/front-end  front-end
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { EndpointInit } from "@tapline/protocol";
import { UsageError } from "../errors.js";

export interface NamedIp {
  pod: string;
  namespace: string;
  service: string;
}

export class NameMap {
  private constructor(private readonly byIp: ReadonlyMap<string, NamedIp>) {}

  static empty(): NameMap {
    return new NameMap(new Map());
  }

  /** Parses the file's text; errors name the line. */
  static parse(text: string, source = "names file"): NameMap {
    const byIp = new Map<string, NamedIp>();
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/#.*/, "").trim();
      if (!line) continue;
      const [ip, name, service, extra] = line.split(/\s+/);
      const where = `${source}:${i + 1}`;
      if (!isIP(ip)) throw new UsageError(`${where}: '${ip}' is not an IP address (expected: IP NAMESPACE/POD [SERVICE])`);
      const slash = name?.indexOf("/") ?? -1;
      if (!name || slash <= 0 || slash === name.length - 1) throw new UsageError(`${where}: expected NAMESPACE/POD after the IP, got '${name ?? ""}'`);
      if (extra !== undefined) throw new UsageError(`${where}: unexpected '${extra}' (expected: IP NAMESPACE/POD [SERVICE])`);
      byIp.set(ip, { namespace: name.slice(0, slash), pod: name.slice(slash + 1), service: service ?? "" });
    }
    return new NameMap(byIp);
  }

  static load(path: string): NameMap {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new UsageError(`--names: cannot read ${path}: ${(err as Error).message}`);
    }
    return NameMap.parse(text, path);
  }

  get size(): number {
    return this.byIp.size;
  }

  /** Names the endpoint when its IP is listed; true when it did. */
  enrich(ep: EndpointInit): boolean {
    const n = this.byIp.get(ep.ip ?? "");
    if (!n) return false;
    ep.pod = n.pod;
    ep.namespace = n.namespace;
    if (n.service) ep.service = n.service;
    return true;
  }
}
