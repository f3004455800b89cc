// Module hooks for dev-loader.mjs (they run on the loader thread). Transpiled files are cached
// under the temp dir by path, size and mtime, so only the first thread start pays for loading
// TypeScript.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const relative = (s) => s.startsWith("./") || s.startsWith("../") || s.startsWith("/") || s.startsWith("file:");
const cacheDir = join(tmpdir(), "tapline-dev-ts");
let ts;

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (relative(specifier) && specifier.endsWith(".js")) return next(`${specifier.slice(0, -3)}.ts`, context);
    throw err;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return next(url, context);
  const fileName = fileURLToPath(url);
  const st = await stat(fileName);
  const cached = join(cacheDir, `${createHash("sha1").update(`${fileName}:${st.size}:${st.mtimeMs}`).digest("hex")}.js`);
  try {
    return { format: "module", source: await readFile(cached, "utf8"), shortCircuit: true };
  } catch {
    // not cached yet
  }
  ts ??= (await import("typescript")).default;
  const out = ts.transpileModule(await readFile(fileName, "utf8"), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true, isolatedModules: true },
  });
  await mkdir(cacheDir, { recursive: true });
  // write then rename: threads starting together never read a half-written file
  const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, out.outputText);
  await rename(tmp, cached);
  return { format: "module", source: out.outputText, shortCircuit: true };
}
