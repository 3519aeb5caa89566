import { afterEach, describe, expect, it, vi } from "vitest";
import { CachedRemote, DEFAULT_FETCH_DEADLINE_MS } from "../src/cached-remote.js";

const policy = { maxAgeMs: 60_000, minMaxAgeMs: 5_000, maxStaleMs: 60_000 };
const hooks = { onFetched: () => {}, onFailed: () => {}, onStale: () => {} };

afterEach(() => {
  vi.useRealTimers();
});

// On Cloudflare Workers a fetch started by a request that has already answered (refresh-ahead)
// or was cancelled may never settle: a later request must not wait on it forever.
describe("a fetch that never settles", () => {
  it("is joined until its deadline, then replaced by a new fetch", async () => {
    vi.useFakeTimers();
    let loads = 0;
    const remote = new CachedRemote<string>(
      () => {
        loads += 1;
        return loads === 1
          ? new Promise(() => {})
          : Promise.resolve({ value: "keys", maxAgeSec: undefined });
      },
      policy,
      hooks,
    );
    void remote.refresh();
    let joined: string | undefined;
    void remote.refresh().then((value) => {
      joined = value;
    });
    await vi.advanceTimersByTimeAsync(DEFAULT_FETCH_DEADLINE_MS - 1);
    expect({ loads, joined }).toEqual({ loads: 1, joined: undefined });
    await vi.advanceTimersByTimeAsync(1);
    expect({ loads, joined }).toEqual({ loads: 2, joined: "keys" });
  });

  it("is not joined at all once its deadline has passed", async () => {
    vi.useFakeTimers();
    let loads = 0;
    const remote = new CachedRemote<string>(
      () => {
        loads += 1;
        return loads === 1
          ? new Promise(() => {})
          : Promise.resolve({ value: "keys", maxAgeSec: undefined });
      },
      { ...policy, fetchDeadlineMs: 1_000 },
      hooks,
    );
    void remote.refresh();
    vi.advanceTimersByTime(1_000);
    await expect(remote.refresh()).resolves.toBe("keys");
    expect(loads).toBe(2);
  });

  it("keeps one fetch for requests that join a fetch that settles in time", async () => {
    let loads = 0;
    let settle: (loaded: { value: string; maxAgeSec: undefined }) => void = () => {};
    const remote = new CachedRemote<string>(
      () => {
        loads += 1;
        return new Promise((resolve) => {
          settle = resolve;
        });
      },
      policy,
      hooks,
    );
    const results = Promise.all([remote.refresh(), remote.refresh(), remote.refresh()]);
    settle({ value: "keys", maxAgeSec: undefined });
    await expect(results).resolves.toEqual(["keys", "keys", "keys"]);
    expect(loads).toBe(1);
  });
});
