// One Lambda execution environment, for lambda.mjs: loads @meishi/lambda, builds the
// authorizer at module scope as a handler file would, answers one cold event and then warm
// ones, and reports the timings to the parent over IPC. Settings come from the environment:
// MODE (fetch | seeded | offline), JWKS_URI, ISSUER, AUDIENCE, SNAPSHOT (JSON text).
const t0 = performance.now();
const { createTokenAuthorizer } = await import("@meishi/lambda");
const tImport = performance.now() - t0;

const { MODE, JWKS_URI, ISSUER, AUDIENCE, SNAPSHOT } = process.env;
const t1 = performance.now();
const handler = createTokenAuthorizer({
  jwksUri: JWKS_URI,
  issuer: ISSUER,
  audience: AUDIENCE,
  logger: false,
  ...(MODE === "fetch" ? {} : { jwksSnapshot: SNAPSHOT, offline: MODE === "offline" }),
});
const tInit = performance.now() - t1;

const ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/orders";
const event = (token) => ({ type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn: ARN });

process.once("message", async ({ tokens, warmCalls }) => {
  const t2 = performance.now();
  const first = await handler(event(tokens[0]));
  const tFirst = performance.now() - t2;
  if (first.policyDocument.Statement[0].Effect !== "Allow")
    throw new Error("cold event not allowed");

  // Warm, new tokens: each needs a signature check (the verified-token cache misses).
  const t3 = performance.now();
  for (let i = 1; i <= warmCalls; i++) await handler(event(tokens[i % tokens.length]));
  const warmNewUs = ((performance.now() - t3) * 1000) / warmCalls;

  // Warm, the same token again: what a client reusing its token costs.
  const t4 = performance.now();
  for (let i = 0; i < warmCalls; i++) await handler(event(tokens[0]));
  const warmSameUs = ((performance.now() - t4) * 1000) / warmCalls;

  process.send({ tImport, tInit, tFirst, warmNewUs, warmSameUs }, () => process.exit(0));
});
process.send({ ready: true });
