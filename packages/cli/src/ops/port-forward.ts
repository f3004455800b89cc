// A local TCP server on --proxy-host:--port whose every connection is bridged to the
// hub pod over the API server's port-forward websocket (like `kubectl port-forward`).
import { createServer, type Server, type Socket } from "node:net";
import { RuntimeFailure } from "../errors.js";

export interface ForwardCluster {
  forwardSocket(namespace: string, pod: string, port: number, socket: Socket): Promise<void>;
}

export interface LocalForward {
  url: string;
  close(): Promise<void>;
}

export async function startPortForward(opts: {
  cluster: ForwardCluster;
  namespace: string;
  /** Called per connection, so a restarted hub pod is picked up. */
  pod: () => Promise<string>;
  remotePort: number;
  host: string;
  port: number;
  onError?: (err: Error) => void;
}): Promise<LocalForward> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.pause();
    opts
      .pod()
      .then((pod) => opts.cluster.forwardSocket(opts.namespace, pod, opts.remotePort, socket))
      .then(() => socket.resume())
      .catch((err: Error) => {
        opts.onError?.(err);
        socket.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(new RuntimeFailure(`port ${opts.port} on ${opts.host} is in use; choose another with -p/--port (or stop what holds it)`));
      } else if (err.code === "EADDRNOTAVAIL") {
        reject(new RuntimeFailure(`cannot listen on ${opts.host}: no such local address (--proxy-host)`));
      } else reject(new RuntimeFailure(`cannot listen on ${opts.host}:${opts.port}: ${err.message}`));
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
