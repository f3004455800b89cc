// Client of the line protocol: several connections, pipelined and split writes, one refused port.
import { connect } from "node:net";

const [port, closedPort] = process.argv.slice(2).map(Number);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function session(lines, splitEvery = 0) {
  const s = connect(port, "127.0.0.1");
  s.setNoDelay(true);
  await new Promise((r) => s.on("connect", r));
  let got = "";
  s.on("data", (d) => (got += d));
  for (const l of lines) {
    const text = l + "\n";
    if (splitEvery) for (let i = 0; i < text.length; i += splitEvery) (s.write(text.slice(i, i + splitEvery)), await sleep(2));
    else s.write(text);
    await sleep(5);
  }
  await sleep(30);
  s.end();
  await new Promise((r) => s.on("close", r));
  return got;
}
await session(["PING 1", "PING 2", "PING 3"]);
await session(["PING 10 with a longer line to split", "PING 11"], 7);
await session(Array.from({ length: 20 }, (_, i) => `PING ${100 + i}`));
// Refused: nothing listens on closedPort, the kernel answers the SYN with RST.
await new Promise((r) => connect(closedPort, "127.0.0.1").on("error", r));
