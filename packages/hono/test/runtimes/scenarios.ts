import { createTestIssuer, type TestIssuer } from "@meishi/testing";
import type { Harness, HarnessApp } from "../../../../test/conformance/harness.js";

/**
 * What one key-source scenario did, in the words of the README's table. Each runtime must
 * observe exactly the same values as Node.
 */
export type Observation = Record<string, number | boolean | string>;

export interface Scenario {
  name: string;
  run(harness: Harness): Promise<Observation>;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function optionsOf(issuer: TestIssuer, keySource: Record<string, number> = {}) {
  return { jwksUri: issuer.jwksUri, issuer: issuer.issuer, audience: issuer.audience, keySource };
}

async function statusOf(app: HarnessApp, token: string): Promise<number> {
  return (await app.request("/me", bearer(token))).status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withIssuer<T>(use: (issuer: TestIssuer) => Promise<T>): Promise<T> {
  const issuer = await createTestIssuer({ algorithms: ["ES256"] });
  try {
    return await use(issuer);
  } finally {
    await issuer.close();
  }
}

async function withApp<T>(
  harness: Harness,
  options: Parameters<Harness["start"]>[0],
  use: (app: HarnessApp) => Promise<T>,
): Promise<T> {
  const app = await harness.start(options);
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}

// A key set that expires after MAX_AGE_MS lets the scenarios pass its max age (and its
// refresh-ahead point, at 75 %) in about a second instead of ten minutes.
const MAX_AGE_MS = 1_000;

export const scenarios: readonly Scenario[] = [
  {
    name: "JWKS outage",
    run: (harness) =>
      withIssuer(async (issuer) => {
        const cold = await withApp(harness, optionsOf(issuer), async (app) => {
          issuer.setFault({ kind: "status", status: 500 });
          const reply = await app.request("/me", bearer(await issuer.sign()));
          issuer.setFault(null);
          return reply;
        });
        const staleStatus = await withApp(
          harness,
          optionsOf(issuer, { maxAgeMs: MAX_AGE_MS }),
          async (app) => {
            const token = await issuer.sign();
            if ((await statusOf(app, token)) !== 200) throw new Error("warm-up failed");
            issuer.setFault({ kind: "status", status: 500 });
            await sleep(MAX_AGE_MS + 200);
            // A token the verified-token cache has never seen, so the keys are needed.
            return statusOf(app, await issuer.sign({ sub: "after-expiry" }));
          },
        );
        return {
          coldStartStatus: cold.status,
          coldStartRetryAfter: cold.headers["retry-after"] !== undefined,
          coldStartChallenge: cold.headers["www-authenticate"] ?? "none",
          pastMaxAgeServesStaleKeys: staleStatus === 200,
        };
      }),
  },
  {
    name: "key rotation",
    run: (harness) =>
      withIssuer((issuer) =>
        withApp(harness, optionsOf(issuer), async (app) => {
          const before = await issuer.sign({ sub: "before" });
          if ((await statusOf(app, before)) !== 200) throw new Error("warm-up failed");
          await issuer.rotate();
          const rotatedStatus = await statusOf(app, await issuer.sign({ sub: "after" }));
          return {
            rotatedKeyStatus: rotatedStatus,
            previousKeyStillAccepted: (await statusOf(app, before)) === 200,
            jwksFetches: issuer.requests.jwks,
          };
        }),
      ),
  },
  {
    name: "kid flood",
    run: (harness) =>
      withIssuer((issuer) =>
        withApp(harness, optionsOf(issuer), async (app) => {
          if ((await statusOf(app, await issuer.sign())) !== 200) throw new Error("warm-up failed");
          const statuses = new Set<number>();
          for (let i = 0; i < 50; i++) {
            statuses.add(
              await statusOf(app, await issuer.sign({}, { header: { kid: `junk-${i}` } })),
            );
          }
          const fetchesAfterFlood = issuer.requests.jwks;
          // A real rotation during the flood: the client's first try falls in the cooldown,
          // its retry spends the rotation budget.
          await issuer.rotate();
          const token = await issuer.sign({ sub: "rotated" });
          const firstTry = await statusOf(app, token);
          const retry = await statusOf(app, token);
          return {
            floodStatuses: [...statuses].join(","),
            jwksFetchesAfter50UnknownKids: fetchesAfterFlood,
            rotatedKeyFirstTry: firstTry,
            rotatedKeyRetry: retry,
          };
        }),
      ),
  },
  {
    name: "refresh-ahead between requests",
    run: (harness) =>
      withIssuer((issuer) =>
        withApp(harness, optionsOf(issuer, { maxAgeMs: MAX_AGE_MS }), async (app) => {
          if ((await statusOf(app, await issuer.sign())) !== 200) throw new Error("warm-up failed");
          await sleep(MAX_AGE_MS * 0.8);
          // Past 75 % of the max age: answered at once, with a refresh started in the background.
          const status = await statusOf(app, await issuer.sign({ sub: "refresh-ahead" }));
          await sleep(300);
          const fetchedInBackground = issuer.requests.jwks;
          await issuer.rotate();
          await sleep(MAX_AGE_MS + 200);
          // Past the max age with a new key: must fetch again, never wait on a lost refresh.
          const afterExpiry = await statusOf(app, await issuer.sign({ sub: "after-expiry" }));
          return {
            refreshAheadStatus: status,
            jwksFetchesAfterBackgroundRefresh: fetchedInBackground,
            nextFetchAfterExpiryStatus: afterExpiry,
          };
        }),
      ),
  },
];

/** What every runtime must observe: Node's behaviour, as the core README's table describes it. */
export const EXPECTED: Readonly<Record<string, Observation>> = {
  "JWKS outage": {
    coldStartStatus: 503,
    coldStartRetryAfter: true,
    coldStartChallenge: "none",
    pastMaxAgeServesStaleKeys: true,
  },
  "key rotation": { rotatedKeyStatus: 200, previousKeyStillAccepted: true, jwksFetches: 2 },
  "kid flood": {
    floodStatuses: "401",
    jwksFetchesAfter50UnknownKids: 2,
    rotatedKeyFirstTry: 401,
    rotatedKeyRetry: 200,
  },
  "refresh-ahead between requests": {
    refreshAheadStatus: 200,
    jwksFetchesAfterBackgroundRefresh: 2,
    nextFetchAfterExpiryStatus: 200,
  },
};
