// pods/<name>/portforward over WebSocket, the kubelet's channel protocol
// (k8s.io/apimachinery/pkg/util/httpstream/wsstream): every binary message starts with a
// channel byte; port i uses channel 2i for data and 2i+1 for errors; the server's first
// message on each of those channels is the port number as 2 bytes, little endian. One
// WebSocket carries one TCP connection per requested port. client-node's PortForward speaks
// this ("v4.channel.k8s.io"). kubectl speaks SPDY instead, handled in spdy.ts.
import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

export interface ForwardTarget {
  host: string;
  port: number;
}

/** Where a pod's port really is (the test maps pod ports to local servers). */
export type ResolveTarget = (namespace: string, pod: string, port: number) => ForwardTarget | undefined;

export const CHANNEL_PROTOCOLS = ["v4.channel.k8s.io", "channel.k8s.io"];

export function portPrefix(channel: number, port: number): Buffer {
  const b = Buffer.allocUnsafe(3);
  b[0] = channel;
  b.writeUInt16LE(port, 1);
  return b;
}

/** The error text the kubelet writes on a port's error channel when the dial fails. */
export function dialError(namespace: string, pod: string, port: number, err: Error): string {
  return `error forwarding port ${port} to pod ${namespace}/${pod}: failed to connect to localhost:${port} inside namespace: ${err.message}`;
}

export function openTarget(resolve: ResolveTarget, namespace: string, pod: string, port: number): Socket | Error {
  const t = resolve(namespace, pod, port);
  if (!t) return new Error(`no test mapping for port ${port} (connection refused)`);
  return connect({ host: t.host, port: t.port });
}

export function handleWebSocketPortForward(
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: { namespace: string; pod: string; ports: number[] },
  resolve: ResolveTarget,
): void {
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const conns: (Socket | undefined)[] = [];
    const closeAll = () => {
      for (const c of conns) c?.destroy();
      if (ws.readyState === ws.OPEN) ws.close(1000);
    };
    target.ports.forEach((port, i) => {
      ws.send(portPrefix(2 * i, port));
      ws.send(portPrefix(2 * i + 1, port));
      const sock = openTarget(resolve, target.namespace, target.pod, port);
      if (sock instanceof Error) {
        ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(dialError(target.namespace, target.pod, port, sock))]));
        closeAll();
        return;
      }
      conns[i] = sock;
      sock.on("data", (d: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i]), d]));
      });
      sock.on("error", (err) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(dialError(target.namespace, target.pod, port, err))]));
      });
      // The target closing its side ends the forwarded connection, and with it the stream.
      sock.on("close", closeAll);
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      // The base64 text variant of the protocol is not offered, so only binary frames come.
      if (!isBinary || data.length === 0) return;
      const buf = data;
      const ch = buf[0];
      const conn = conns[ch >> 1];
      // Clients write only data channels; anything else is ignored as the kubelet does.
      if (ch % 2 === 0 && conn && buf.length > 1) conn.write(buf.subarray(1));
    });
    ws.on("close", () => {
      for (const c of conns) c?.destroy();
    });
    ws.on("error", () => {
      for (const c of conns) c?.destroy();
    });
  });
}
