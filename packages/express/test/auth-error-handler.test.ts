import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { authErrorHandler, jwtAuth } from "../src/index.js";

describe("authErrorHandler", () => {
  it("renders an AuthError as the RFC 6750 JSON body with its headers", async () => {
    const app = express();
    app.get("/", jwtAuth({ keys: { keys: [] }, issuer: null, audience: null }), (_req, res) =>
      res.end(),
    );
    app.use(authErrorHandler());
    const res = await request(app).get("/").set("Authorization", "Bearer ");
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="api", error="invalid_request"/);
    expect(res.body).toEqual({
      error: "invalid_request",
      error_description: "The Authorization header has no bearer token",
    });
  });

  it("passes any other error on to the next handler", async () => {
    const app = express();
    app.set("env", "test");
    app.get("/", () => {
      throw new Error("boom");
    });
    app.use(authErrorHandler());
    const res = await request(app).get("/");
    expect(res.status).toBe(500);
    expect(res.headers["www-authenticate"]).toBeUndefined();
  });
});
