// The `express4` alias has no types of its own; Express 4's API is the subset of 5 used here.
declare module "express4" {
  import express = require("express");
  export = express;
}
