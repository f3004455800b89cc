// Apart from schema.ts so `@tapline/protocol/version` loads without the protobuf module
// (the CLI prints it on every command's start-up path).

/** Version of proto/tapline.proto; bump the minor on additive changes. */
export const SCHEMA_VERSION = "1.0";
