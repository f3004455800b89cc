/** Filters shown in the UI help; filter.test.ts checks that each one compiles. */
export const EXAMPLES: readonly { filter: string; description: string }[] = [
  { filter: "http and response.status >= 500", description: "HTTP server errors" },
  { filter: 'redis and request.command == "GET"', description: "Redis GETs" },
  { filter: 'kafka and request.topic == "orders"', description: "Kafka traffic on the orders topic" },
  { filter: 'dst.namespace == "shop" and elapsedMs > 100', description: "Slow calls into the shop namespace" },
  { filter: 'request.headers["content-type"] contains "json"', description: "Requests with a JSON body" },
  { filter: 'grpc and grpc.status != 0', description: "Failed gRPC calls" },
  { filter: 'dns and response.rcode == "NXDOMAIN"', description: "DNS names that do not exist" },
  { filter: "response.status in (502, 503, 504)", description: "Gateway errors (a set of values)" },
  { filter: 'dst.namespace not in ("kube-system", "tapline")', description: "Everything outside the system namespaces" },
  { filter: 'status != "COMPLETE"', description: "Timeouts, resets and calls without a response" },
  { filter: 'request.path matches /^\\/api\\/v[0-9]+\\/orders/', description: "A path pattern" },
  { filter: 'src.pod startsWith "checkout-" and not (dst.service == "cart" || tls)', description: "Grouping and negation" },
];
