import type { Identity } from "@meishi/core";

/** The state `jwtAuth()` sets, for apps and routers typed with explicit state generics. */
export interface AuthState {
  /**
   * The verified token. Absent when auth is optional and no token was sent. Its claims are
   * typed by `Register` in `@meishi/core`.
   */
  auth?: Identity;
}

declare module "koa" {
  interface DefaultState {
    /** The verified token, set by `jwtAuth()` from `@meishi/koa`. */
    auth?: Identity;
  }
}
