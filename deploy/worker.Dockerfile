# syntax=docker/dockerfile:1.7
# The worker image: the native capture sidecar (tapline-capture, built with make) and
# the worker, which starts the sidecar as its child over a unix socket. Multi-stage:
# compilers stay in the build stages; the final image only has the runtime libraries.
#   docker build -f deploy/worker.Dockerfile -t ghcr.io/tapline/tapline-worker:v0.1.0 .
# Runs as root with only NET_RAW, NET_ADMIN (and BPF, PERFMON, SYS_PTRACE, SYS_RESOURCE
# with --tls) granted by the DaemonSet; never privileged.

FROM debian:bookworm-slim AS native
RUN apt-get update \
 && apt-get install -y --no-install-recommends make clang llvm libpcap-dev libbpf-dev libelf-dev zlib1g-dev libcapstone-dev bpftool \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY native/ native/
# vmlinux.h is dumped from the build host's /sys/kernel/btf/vmlinux (BuildKit mounts sysfs);
# the probes are CO-RE, so they load on any BTF-enabled kernel, not only the build host's.
RUN make -C native CC=clang

FROM node:20-bookworm-slim AS build
RUN corepack enable \
 && COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0 corepack prepare pnpm@10.34.9 --activate
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile --filter "@tapline/worker..."
RUN pnpm -C packages/protocol build && pnpm -C packages/worker build
RUN pnpm --filter @tapline/worker deploy --prod --legacy /out

FROM node:20-bookworm-slim
# Runtime libraries of tapline-capture (libpcap; libbpf/libelf for the eBPF TLS probes;
# libcapstone to find the return instructions of Go's crypto/tls).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 libbpf1 libelf1 libcapstone4 zlib1g \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
COPY --from=native /src/native/build/tapline-capture /usr/local/bin/tapline-capture
COPY --from=build /out /app/worker
WORKDIR /app
# Flags come from the DaemonSet's args (--hub, --sidecar, --state-dir, --pcap-limit, --tls).
ENTRYPOINT ["node", "/app/worker/dist/bin.js"]
