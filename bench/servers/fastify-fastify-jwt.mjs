// @fastify/jwt 10 + get-jwks 11 as their READMEs show: decode complete, secret function that
// asks get-jwks for the key by kid/alg/iss, get-jwks limited to our issuer (issuersWhitelist,
// get-jwks README), and verify options pinning the algorithm, issuer and audience.
// fast-jwt's verified-token cache is left at its default (off), as the README example does.
import fastifyJwt from "@fastify/jwt";
import Fastify from "fastify";
import buildGetJwks from "get-jwks";
import { announce, benchEnv } from "./_common.mjs";

const env = benchEnv();
const getJwks = buildGetJwks({ issuersWhitelist: [env.issuer] });
const app = Fastify();
await app.register(fastifyJwt, {
  decode: { complete: true },
  secret: (_request, token) => {
    const {
      header: { kid, alg },
      payload: { iss },
    } = token;
    return getJwks.getPublicKey({ kid, domain: iss, alg });
  },
  verify: { algorithms: ["RS256"], allowedIss: env.issuer, allowedAud: env.audience },
});
app.get(
  "/me",
  {
    onRequest: async (request) => {
      await request.jwtVerify();
    },
  },
  async (request) => ({ sub: request.user?.sub }),
);
await app.listen({ port: env.port, host: "127.0.0.1" });
announce(app.server.address().port, () => app.close());
