export { ServiceMapBuilder, endpointNode, percentile, MAP_COLUMNS } from "./servicemap.js";
export type { MapRow, EndpointColumns } from "./servicemap.js";
