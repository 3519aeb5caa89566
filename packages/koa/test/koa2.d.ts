// The `koa2` alias has no types of its own; Koa 2's API is the subset of 3 used here.
declare module "koa2" {
  import Koa = require("koa");
  export = Koa;
}
