import { handleHarnessRequest } from "./harness-server.js";

export default { fetch: handleHarnessRequest };
