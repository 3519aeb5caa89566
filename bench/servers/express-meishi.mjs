// @meishi/express as its README shows: jwtAuth({ jwksUri, issuer, audience }) once at start-up,
// authErrorHandler() for JSON error bodies. Defaults otherwise (verified-token cache on).
import { createServer } from "node:http";
import { authErrorHandler, jwtAuth } from "@meishi/express";
import express from "express";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
// The *-meishi-nocache variants measure a token seen for the first time on every request.
const cacheOption =
  process.env.MEISHI_VERIFIED_CACHE === "off"
    ? { verifiedTokenCache: /** @type {const} */ (false) }
    : {};
const app = express();
app.use(
  jwtAuth({ jwksUri: env.jwksUri, issuer: env.issuer, audience: env.audience, ...cacheOption }),
);
app.get("/me", (req, res) => {
  res.json({ sub: req.auth?.sub });
});
app.use(authErrorHandler());
const server = createServer(app);
announce(await listen(server, env.port), () => closeServer(server));
