// The tap target from the `tapline-tap` ConfigMap mounted at TAPLINE_TAP_CONFIG (the CLI's
// defaults.ts: TAP_CONFIG_MOUNT, TAP_KEYS): one file per key, `podRegex` and `namespaces` (a comma
// list; empty means every namespace). Read at start so a restarted hub knows the target before
// the next `tapline tap`, and re-read when kubelet updates the volume. Redaction rules reach the
// hub as arguments (a change of them restarts the pod), so the `redact` files are not read here.
import { existsSync, readFileSync, statSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { join } from "node:path";
import type { TapConfigInit } from "@tapline/protocol";

export class TapDirError extends Error {}

/** The tap target in `dir`, or undefined when the directory does not exist. Throws TapDirError on a bad regex. */
export function readTapDir(dir: string): TapConfigInit | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const podRegex = readKey(dir, "podRegex").trim();
  try {
    new RegExp(podRegex);
  } catch (err) {
    throw new TapDirError(`${join(dir, "podRegex")}: invalid regular expression: ${(err as Error).message}`);
  }
  const namespaces = readKey(dir, "namespaces").split(",").map((n) => n.trim()).filter((n) => n.length > 0);
  return { podRegex, namespaces, allNamespaces: namespaces.length === 0 };
}

function readKey(dir: string, key: string): string {
  try {
    return readFileSync(join(dir, key), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw new TapDirError(`${join(dir, key)}: ${(err as Error).message}`);
  }
}

export interface TapDirWatch {
  close(): void;
}

/**
 * Calls `onChange` with the new target whenever the directory's content changes. kubelet
 * updates a ConfigMap volume by writing a new hidden directory and swapping the `..data`
 * symlink, which shows up as several events on the directory: they are debounced into one
 * read, and a read that yields the same target as before calls nothing.
 */
export function watchTapDir(dir: string, current: TapConfigInit | undefined, onChange: (tap: TapConfigInit) => void, onError: (err: Error) => void, debounceMs = 250): TapDirWatch {
  let last = JSON.stringify(current ?? null);
  let timer: NodeJS.Timeout | undefined;
  const reread = () => {
    timer = undefined;
    let tap: TapConfigInit | undefined;
    try {
      tap = readTapDir(dir);
    } catch (err) {
      return onError(err as Error);
    }
    if (!tap) return;
    const text = JSON.stringify(tap);
    if (text === last) return;
    last = text;
    onChange(tap);
  };
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(reread, debounceMs);
    });
  } catch (err) {
    throw new TapDirError(`cannot watch ${dir}: ${(err as Error).message}`);
  }
  watcher.on("error", (err) => onError(err));
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
