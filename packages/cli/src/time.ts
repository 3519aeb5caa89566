function amount(seconds: number): string {
  const s = Math.abs(seconds);
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  if (s < 730 * 86400) return `${Math.floor(s / 86400)} d`;
  return `${Math.floor(s / (365.25 * 86400))} y`;
}

/** "in 4 min" / "2 h ago", for a moment in seconds since the epoch. */
export function relative(epochSec: number, nowSec: number): string {
  const delta = epochSec - nowSec;
  return delta >= 0 ? `in ${amount(delta)}` : `${amount(delta)} ago`;
}

/** "4 min", "30 d": a duration in seconds. */
export function duration(seconds: number): string {
  return amount(seconds);
}

/** What a time claim means, in words: "expires in 4 min", "expired 2 h ago". */
export function describeTime(claim: string, epochSec: number, nowSec: number): string {
  const when = relative(epochSec, nowSec);
  const future = epochSec >= nowSec;
  switch (claim) {
    case "exp":
      return future ? `expires ${when}` : `expired ${when}`;
    case "nbf":
      return future ? `becomes valid ${when}` : `valid since ${when}`;
    case "iat":
      return future ? `issued in the future (${when})` : `issued ${when}`;
    default:
      return when;
  }
}

/**
 * Parses a lifetime flag: seconds (`300`), or a number with `s`, `m`, `h` or `d`.
 * Returns undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(-?\d+)\s*(s|m|min|h|d)?$/.exec(text.trim());
  if (match === null) return undefined;
  const value = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor =
    unit === "s" ? 1 : unit === "m" || unit === "min" ? 60 : unit === "h" ? 3600 : 86400;
  return value * factor;
}
