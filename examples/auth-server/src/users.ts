import { randomUUID } from "node:crypto";
import type { DemoUser } from "./config.js";
import { hashPassword, verifyPassword } from "./passwords.js";

/** A user as the server knows it: no plain-text password. */
export interface User {
  readonly sub: string;
  readonly username: string;
  readonly name: string;
  readonly role: string;
}

/** The accounts that can log in, by username and by `sub`. */
export interface UserDirectory {
  /** The user when the password matches, else `undefined`; as slow for unknown users. */
  authenticate(username: string, password: string): Promise<User | undefined>;
  /** Looks a user up by `sub`, e.g. when a refresh token comes back. */
  find(sub: string): User | undefined;
}

interface StoredUser extends User {
  readonly passwordHash: string;
}

/** Hashes the demo passwords (per-user random salt) and keeps only the hashes. */
export function createUserDirectory(users: readonly DemoUser[]): UserDirectory {
  const byUsername = new Map<string, StoredUser>();
  const bySub = new Map<string, StoredUser>();
  for (const { password, ...user } of users) {
    const stored = { ...user, passwordHash: hashPassword(password) };
    byUsername.set(user.username, stored);
    bySub.set(user.sub, stored);
  }
  // An unknown username is checked against this hash of a random password, so answering
  // "no such user" takes as long as "wrong password" and the timing reveals no usernames.
  const dummyHash = hashPassword(randomUUID());

  return {
    async authenticate(username, password) {
      const user = byUsername.get(username);
      const matches = await verifyPassword(password, user?.passwordHash ?? dummyHash);
      if (user === undefined || !matches) return undefined;
      return { sub: user.sub, username: user.username, name: user.name, role: user.role };
    },
    find(sub) {
      const user = bySub.get(sub);
      return user && { sub: user.sub, username: user.username, name: user.name, role: user.role };
    },
  };
}
