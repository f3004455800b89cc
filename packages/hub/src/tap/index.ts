export { readTapDir, TapDirError, watchTapDir } from "./dir.js";
export type { TapDirWatch } from "./dir.js";
