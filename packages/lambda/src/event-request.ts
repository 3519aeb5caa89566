import type { TokenRequest } from "@meishi/core";

type HeaderMap = Readonly<Record<string, string | undefined>> | null | undefined;
type MultiHeaderMap = Readonly<Record<string, readonly string[] | undefined>> | null | undefined;

/**
 * API Gateway keeps header names as the client sent them in REST events (`Authorization`,
 * `authorization`, `AUTHORIZATION`) and lowercases them in HTTP API events; core reads lowercase
 * names. The multi-value form wins when present, so two `Authorization` headers reach core as
 * two values and are refused, instead of API Gateway's "last one wins" single-value map.
 */
export function lowercaseHeaders(
  headers: HeaderMap,
  multiValueHeaders?: MultiHeaderMap,
): Record<string, string | readonly string[]> {
  const result: Record<string, string | string[]> = {};
  if (multiValueHeaders !== null && multiValueHeaders !== undefined) {
    for (const [name, values] of Object.entries(multiValueHeaders)) {
      if (values === undefined) continue;
      const key = name.toLowerCase();
      const existing = result[key];
      result[key] = [...(Array.isArray(existing) ? existing : []), ...values];
    }
  }
  if (headers !== null && headers !== undefined) {
    for (const [name, value] of Object.entries(headers)) {
      const key = name.toLowerCase();
      if (value === undefined || key in result) continue;
      result[key] = value;
    }
  }
  return result;
}

function withQuery(path: string, query: string): string {
  return query === "" ? path : `${path}?${query}`;
}

/** The token request of an HTTP API (payload 2.0) event: headers, cookies and query string. */
export function requestFromV2(event: {
  headers?: HeaderMap;
  cookies?: readonly string[] | undefined;
  rawPath?: string | undefined;
  rawQueryString?: string | undefined;
}): TokenRequest {
  const headers = lowercaseHeaders(event.headers);
  // Payload 2.0 moves cookies out of the headers into their own array.
  if (event.cookies !== undefined && event.cookies.length > 0) {
    headers.cookie = event.cookies.join("; ");
  }
  return { headers, url: withQuery(event.rawPath ?? "/", event.rawQueryString ?? "") };
}

/** The token request of a REST API REQUEST authorizer event (payload 1.0). */
export function requestFromV1(event: {
  headers: HeaderMap;
  multiValueHeaders?: MultiHeaderMap;
  path?: string | undefined;
  multiValueQueryStringParameters?: MultiHeaderMap;
  queryStringParameters?: HeaderMap;
}): TokenRequest {
  const query = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters;
  if (multi !== null && multi !== undefined) {
    for (const [name, values] of Object.entries(multi)) {
      for (const value of values ?? []) query.append(name, value);
    }
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) query.append(name, value);
    }
  }
  return {
    headers: lowercaseHeaders(event.headers, event.multiValueHeaders),
    url: withQuery(event.path ?? "/", query.toString()),
  };
}
