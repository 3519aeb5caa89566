// Profile one bench server under load: node /tmp/prof.mjs <server-name>
import { createTestIssuer } from "@meishi/testing";
import autocannon from "autocannon";
import { fork } from "node:child_process";
const name = process.argv[2];
const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
const token = await issuer.sign({ sub: "bench", role: "standard user" });
const child = fork(new URL(`./servers/${name}.mjs`, import.meta.url).pathname, [], {
  execArgv: ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"],
  env: { ...process.env, PORT: "0", JWKS_URI: issuer.jwksUri, ISSUER: issuer.issuer, AUDIENCE: issuer.audience },
});
const port = await new Promise((r) => child.once("message", (m) => r(m.ready)));
await new Promise((r) => autocannon({ url: `http://127.0.0.1:${port}/me`, connections: 50, amount: 60000, headers: { authorization: `Bearer ${token}` } }, r));
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
await issuer.close();
