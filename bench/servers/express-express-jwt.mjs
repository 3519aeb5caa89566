// express-jwt 8 + jwks-rsa 4 as their docs recommend: expressJwtSecret with cache and rate
// limiting on, algorithms pinned to RS256 (required by express-jwt), issuer and audience set.
import { createServer } from "node:http";
import express from "express";
import { expressjwt } from "express-jwt";
import jwksRsa from "jwks-rsa";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const app = express();
app.use(
  expressjwt({
    secret: jwksRsa.expressJwtSecret({
      jwksUri: env.jwksUri,
      cache: true,
      rateLimit: true,
      jwksRequestsPerMinute: 10,
    }),
    audience: env.audience,
    issuer: env.issuer,
    algorithms: ["RS256"],
  }),
);
app.get("/me", (req, res) => {
  res.json({ sub: req.auth?.sub });
});
// express-jwt's README: answer its UnauthorizedError with 401.
app.use((err, _req, res, next) => {
  if (err.name === "UnauthorizedError") {
    res.status(401).json({ error: "invalid_token" });
    return;
  }
  next(err);
});
const server = createServer(app);
announce(await listen(server, env.port), () => closeServer(server));
