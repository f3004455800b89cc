# syntax=docker/dockerfile:1.7
# The hub image: node:20-slim + the built hub + the built UI. Everything is inside the
# image; nothing is downloaded when it runs (air-gapped clusters: push it to a mirror and
# `tapline tap --image-registry mirror.local/tapline`).
#   docker build -f deploy/hub.Dockerfile -t ghcr.io/tapline/tapline-hub:v0.1.0 .
# The manifests (packages/cli/src/manifests/build.ts) run it as uid 1000 (the image's
# `node` user) with a read-only root filesystem; only /var/lib/tapline/hub is written.

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source (its prebuilt binaries do not cover this setup).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN corepack enable \
 && COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0 corepack prepare pnpm@10.34.9 --activate
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile --filter "@tapline/hub..." --filter "@tapline/ui..."
RUN pnpm -C packages/protocol build \
 && pnpm -C packages/hub build \
 && pnpm -C packages/ui build
# A self-contained production tree of the hub with its workspace dependencies copied in.
RUN pnpm --filter @tapline/hub deploy --prod --legacy /out \
 && cd /out && npm rebuild better-sqlite3

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out /app/hub
COPY --from=build /src/packages/ui/dist /app/ui
USER 1000:1000
EXPOSE 8899
# Flags come from the Deployment's args (--host, --port, --storage, --storage-limit, --ui-dir).
ENTRYPOINT ["node", "/app/hub/dist/bin.js"]
