// payments: an HTTPS service (self-signed certificate). With `--tls`, Tapline shows the
// plaintext of these calls through its eBPF hooks on node's OpenSSL.
import https from "node:https";
import { readFileSync } from "node:fs";
import { layout, readBody, sendJson, stayWithParent } from "./lib.mjs";

stayWithParent();
let charges = 0;
https
  .createServer({ key: readFileSync(`${layout.certDir}/key.pem`), cert: readFileSync(`${layout.certDir}/cert.pem`) }, async (req, res) => {
    if (req.method === "POST" && req.url === "/charge") {
      const charge = JSON.parse((await readBody(req)) || "{}");
      // Every seventh charge is declined, as card processors do now and then.
      if (++charges % 7 === 0) return sendJson(res, 402, { orderId: charge.orderId, status: "declined" });
      return sendJson(res, 200, { orderId: charge.orderId, status: "approved" });
    }
    sendJson(res, 404, { error: "not found" });
  })
  .listen(layout.ports.payments, layout.ips.payments);
