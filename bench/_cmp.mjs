import { createVerifier } from "@meishi/core";
import { createTestIssuer } from "@meishi/testing";
import { JwtVerifier } from "aws-jwt-verify";
const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
const pool = [];
for (let i = 0; i < 1000; i++) pool.push(await issuer.sign({ sub: `user-${i}` }));
const v = createVerifier({ jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience, verifiedTokenCache: false, logger: false });
await v.verify(pool[0]);
const aws = JwtVerifier.create({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri });
aws.cacheJwks(await (await fetch(issuer.jwksUri)).json());
async function run(f) { const t0 = performance.now(); let n = 0; while (performance.now() - t0 < 1000) { for (let k = 0; k < 50; k++) await f(pool[(n++) % 1000]); } return n / ((performance.now() - t0) / 1000); }
const r = { meishi: [], aws: [] };
for (let i = 0; i < 6; i++) { r.meishi.push(await run((t) => v.verify(t))); r.aws.push(await run((t) => aws.verify(t))); }
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log("meishi", Math.round(med(r.meishi)), "aws", Math.round(med(r.aws)), "ratio", (med(r.meishi) / med(r.aws)).toFixed(2));
await issuer.close();
