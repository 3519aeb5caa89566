import { createVerifier } from "@meishi/core";
import { createTestIssuer } from "@meishi/testing";
const issuer = await createTestIssuer({ tokenLifetimeSec: 3600 });
const pool = [];
for (let i = 0; i < 1000; i++) pool.push(await issuer.sign({ sub: `user-${i}` }));
const v = createVerifier({ jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience, verifiedTokenCache: false, logger: false });
await v.verify(pool[0]);
const t0 = performance.now(); let n = 0;
while (performance.now() - t0 < 4000) { for (let k = 0; k < 100; k++) await v.verify(pool[(n++) % 1000]); }
console.log("ops/s", Math.round(n / ((performance.now() - t0) / 1000)));
await issuer.close();
