// The built UI (packages/ui/dist) with SPA fallback: unknown non-API GETs get index.html.
import { existsSync } from "node:fs";
import { join } from "node:path";
import fp from "fastify-plugin";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

export interface UiPluginOptions {
  uiDir: string;
}

async function uiPlugin(app: FastifyInstance, opts: UiPluginOptions): Promise<void> {
  if (!existsSync(join(opts.uiDir, "index.html"))) throw new Error(`hub: uiDir ${opts.uiDir} has no index.html`);
  await app.register(fastifyStatic, { root: opts.uiDir, wildcard: false });
  app.setNotFoundHandler((req, reply) => {
    if (req.method === "GET" && !req.url.startsWith("/api/") && !req.url.startsWith("/ws/") && req.url !== "/metrics") {
      return reply.sendFile("index.html");
    }
    return reply.code(404).send({ error: `no route ${req.method} ${req.url.split("?")[0]}` });
  });
}

export default fp(uiPlugin, { name: "tapline-ui", fastify: "5.x" });
