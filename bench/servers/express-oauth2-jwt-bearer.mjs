// express-oauth2-jwt-bearer (Auth0) with an explicit jwksUri + issuer + audience, RS256.
// Its README's issuerBaseURL form does OIDC discovery instead; the explicit form is documented
// in AuthOptions ("both 'issuer' and 'jwksUri'"). It accepts an http issuer unless
// NODE_ENV=production, which is why the bench servers do not set NODE_ENV.
import { createServer } from "node:http";
import express from "express";
import { auth } from "express-oauth2-jwt-bearer";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const app = express();
app.use(
  auth({
    jwksUri: env.jwksUri,
    issuer: env.issuer,
    audience: env.audience,
    tokenSigningAlg: "RS256",
  }),
);
app.get("/me", (req, res) => {
  res.json({ sub: req.auth?.payload.sub });
});
// Its errors carry status and headers (WWW-Authenticate); render them as small JSON bodies.
app.use((err, _req, res, _next) => {
  res
    .status(err.status ?? 500)
    .set(err.headers ?? {})
    .json({ error: err.code ?? "error" });
});
const server = createServer(app);
announce(await listen(server, env.port), () => closeServer(server));
