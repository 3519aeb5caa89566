import type { JWTHeaderParameters, JWTPayload, JWTVerifyOptions } from "jose";

/**
 * True only when jose's claim validation (`validateClaimsSet`, run by `jwtVerify` and
 * `UnsecuredJWT.decode`) would accept these claims with these options; `false` means "ask jose",
 * which then refuses with its own error, or accepts. It mirrors jose's checks in jose's order for
 * the options the verifier sets (`typ`, `requiredClaims`, `issuer`, `audience`, a numeric
 * `clockTolerance` and `maxTokenAge`) and answers `false` for anything else, so it can only
 * save work, never change an answer: about 3 µs per token, more than a tenth of an RS256 check
 * (jose builds its error context and re-decodes the payload). test/differential.test.ts holds
 * both paths to the same answer on 100,000 generated and mutated tokens.
 */
export function claimsPassAsJoseWould(
  header: JWTHeaderParameters,
  claims: JWTPayload,
  options: Readonly<JWTVerifyOptions>,
): boolean {
  const { typ, requiredClaims, issuer, audience, clockTolerance, maxTokenAge, subject } = options;
  if (subject !== undefined || options.currentDate !== undefined) return false;
  if (typeof clockTolerance !== "number" && clockTolerance !== undefined) return false;
  if (typeof maxTokenAge !== "number" && maxTokenAge !== undefined) return false;
  if (
    typ !== undefined &&
    (typeof header.typ !== "string" || normalizeTyp(header.typ) !== normalizeTyp(typ))
  ) {
    return false;
  }
  for (const claim of requiredClaims ?? []) if (!Object.hasOwn(claims, claim)) return false;
  if (maxTokenAge !== undefined && !Object.hasOwn(claims, "iat")) return false;
  if (audience !== undefined && !Object.hasOwn(claims, "aud")) return false;
  if (issuer !== undefined) {
    if (!Object.hasOwn(claims, "iss")) return false;
    const iss = claims.iss;
    if (typeof iss !== "string") return false;
    if (typeof issuer === "string" ? iss !== issuer : !issuer.includes(iss)) return false;
  }
  if (audience !== undefined && !audienceMatches(claims.aud, audience)) return false;
  const tolerance = clockTolerance ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0) return false;
  // jose's clock: whole seconds, rounded down.
  const now = Math.floor(Date.now() / 1000);
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== "number") return false;
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now + tolerance)) return false;
  if (exp !== undefined && (typeof exp !== "number" || exp <= now - tolerance)) return false;
  if (maxTokenAge !== undefined) {
    if (typeof iat !== "number" || !Number.isFinite(maxTokenAge) || maxTokenAge < 0) return false;
    const age = now - iat;
    if (age - tolerance > maxTokenAge || age < -tolerance) return false;
  }
  return true;
}

function normalizeTyp(value: string): string {
  const lower = value.toLowerCase();
  return value.includes("/") ? lower : `application/${lower}`;
}

function audienceMatches(aud: unknown, expected: string | readonly string[]): boolean {
  if (typeof expected === "string") {
    return typeof aud === "string"
      ? aud === expected
      : Array.isArray(aud) && aud.includes(expected);
  }
  if (typeof aud === "string") return expected.includes(aud);
  return Array.isArray(aud) && expected.some((value) => aud.includes(value));
}
