// gRPC server and client with @grpc/grpc-js and @grpc/proto-loader (echo.proto), on loopback.
//   node grpc.mjs PORT
// Calls: Say (unary, ok), Fail (status INVALID_ARGUMENT with a message needing percent-encoding),
// Repeat (server streaming, 3 replies), Say with gzip message compression.
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const port = Number(process.argv[2]);
const def = protoLoader.loadSync(fileURLToPath(new URL("./echo.proto", import.meta.url)));
const proto = grpc.loadPackageDefinition(def).tapline.fixture;

const server = new grpc.Server();
server.addService(proto.Echo.service, {
  Say: (call, cb) => cb(null, { message: `hello ${call.request.name}`, index: call.request.count }),
  Fail: (call, cb) => cb({ code: grpc.status.INVALID_ARGUMENT, details: `bad name: ${call.request.name} 100% wrong` }),
  Repeat: (call) => {
    for (let i = 0; i < 3; i++) call.write({ message: `${call.request.name} #${i}`, index: i });
    call.end();
  },
});
await new Promise((res, rej) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));

const client = new proto.Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const unary = (method, req, opts) => new Promise((res) => client[method](req, ...(opts ? [new grpc.Metadata(), opts] : []), (err, rep) => res(err ?? rep)));
console.log(await unary("Say", { name: "tapline", count: 7, inner: { values: [1, 300, -2], flag: true } }));
console.log((await unary("Fail", { name: "zoë" })).details);
await new Promise((res) => {
  const call = client.Repeat({ name: "tick" });
  call.on("data", () => {});
  call.on("end", res);
});
const zipped = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
const ser = (o) => proto.Echo.service.Say.requestSerialize(o);
await new Promise((res) =>
  zipped.makeUnaryRequest("/tapline.fixture.Echo/Say", ser, (b) => b, { name: "compressed ".repeat(20), count: 1 }, () => res()),
);
zipped.close();
client.close();
server.forceShutdown();
