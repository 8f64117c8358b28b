import bcrypt from "bcryptjs";

const ROUNDS = 11;

export function hashPassword(password: string, rounds = ROUNDS): Promise<string> {
  return bcrypt.hash(password, rounds);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

/** A hash of nothing, compared against when the account does not exist so that timing does not tell. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= bcrypt.hash("no-such-account-dummy-password", ROUNDS);
  return dummyHash;
}

export const passwordRules = { min: 8, max: 200 } as const;
