// One request and its reply line on tapline-capture's control socket (newline-delimited JSON).
import { createConnection } from "node:net";

export function control<T = Record<string, unknown>>(path: string, cmd: object): Promise<T> {
  return new Promise((res, rej) => {
    const sock = createConnection(path);
    let buf = "";
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        sock.end();
        res(JSON.parse(buf.slice(0, nl)) as T);
      }
    });
    sock.on("error", rej);
    sock.write(JSON.stringify(cmd) + "\n");
  });
}
