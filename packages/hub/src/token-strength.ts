/**
 * How hard the admin token is to guess, by zxcvbn's estimate (dictionaries of common passwords and English
 * words, keyboard patterns, repeats, sequences, dates; otherwise ~10 guesses per character). The admin token
 * opens everything, so it must be the kind of value a machine generates, not a memorable one.
 */
import crypto from "node:crypto";

/** log10 of the guesses needed: 10^20 ≈ 2^66, about 20 random characters, what `clawtower token create` far exceeds. */
export const MIN_ADMIN_TOKEN_GUESSES_LOG10 = 20;

export const HOW_TO_MAKE_A_TOKEN = "make one with `clawtower token create` (writes a random token to a 0600 file for --admin-token-file) or `openssl rand -base64 32`";

export async function adminTokenGuessesLog10(token: string): Promise<number> {
  const [{ ZxcvbnFactory }, common, en] = await Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common"), import("@zxcvbn-ts/language-en")]);
  const zxcvbn = new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: en.translations });
  return zxcvbn.check(token).guessesLog10;
}

let lastChecked: { token: string; reason: string | null } | null = null;

/** Why a token is too weak to be the admin token, or null when it is fine (the last answer is remembered). */
export async function weakAdminTokenReason(token: string): Promise<string | null> {
  if (lastChecked?.token !== token) lastChecked = { token, reason: await weakReason(token) };
  return lastChecked.reason;
}

async function weakReason(token: string): Promise<string | null> {
  if (token.length < 16) return `the admin token is ${token.length} characters; it needs at least 16 and must be hard to guess: ${HOW_TO_MAKE_A_TOKEN}`;
  const log10 = await adminTokenGuessesLog10(token);
  if (log10 < MIN_ADMIN_TOKEN_GUESSES_LOG10) {
    return `the admin token is too easy to guess (about 10^${Math.floor(log10)} guesses; at least 10^${MIN_ADMIN_TOKEN_GUESSES_LOG10} needed): ${HOW_TO_MAKE_A_TOKEN}`;
  }
  return null;
}

/** A fresh admin token: 32 random bytes (256 bits), base64url. */
export function generateAdminToken(): string {
  return crypto.randomBytes(32).toString("base64url");
}
