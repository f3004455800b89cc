import type { KubernetesObject } from "@kubernetes/client-node";
import { stringify } from "yaml";

/** A multi-document YAML stream, as `kubectl apply -f -` takes it. */
export function manifestsToYaml(objects: KubernetesObject[]): string {
  return objects.map((o) => "---\n" + stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("");
}
