// @meishi/fastify with the verified-token cache off: every request pays for a full signature check.
process.env.MEISHI_VERIFIED_CACHE = "off";
await import("./fastify-meishi.mjs");
