import type { Identity } from "@meishi/core";

declare global {
  namespace Express {
    interface Request {
      /**
       * The verified token, set by `jwtAuth()`. Absent when the route's auth is optional and
       * no token was sent. Its claims are typed by `Register` in `@meishi/core`.
       */
      auth?: Identity;
    }
  }
}
