// Express 5 with no authentication: the ceiling for the Express rows.
import { createServer } from "node:http";
import express from "express";
import { announce, benchEnv, closeServer, listen } from "./_common.mjs";

const env = benchEnv();
const app = express();
app.get("/me", (_req, res) => {
  res.json({ sub: "anonymous" });
});
const server = createServer(app);
announce(await listen(server, env.port), () => closeServer(server));
