// tsc does not copy the generated JavaScript and declarations: put them beside the build.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(root, "dist/gen"), { recursive: true });
for (const f of ["tapline.js", "tapline.d.ts"]) cpSync(join(root, "src/gen", f), join(root, "dist/gen", f));
