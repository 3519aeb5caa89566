// Express 5 with one middleware that does nothing but what an auth middleware must (attach a
// value to the request, call next) and the error handler beside it: what the framework charges
// for any middleware, so the meishi row's cost splits into the framework's and meishi's own.
import { createServer } from "node:http";
import express from "express";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const identity = Object.freeze({ sub: "anonymous" });
const app = express();
app.use((req, _res, next) => {
  req.auth = identity;
  next();
});
app.get("/me", (req, res) => {
  res.json({ sub: req.auth?.sub });
});
app.use((error, _req, res, _next) => {
  res.status(500).json({ error: String(error) });
});
const server = createServer(app);
announce(await listen(server, env.port), () => closeServer(server));
