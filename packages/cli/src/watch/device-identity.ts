/**
 * The watcher's gateway device identity: an Ed25519 key pair kept 0600 in the Clawtower home. Protocol v4
 * requires every operator connection to sign the gateway's connect challenge; the device id is the SHA-256 of
 * the raw public key, as the gateway derives it.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { writePrivateFileAtomic } from "@clawtower/core";

export type DeviceIdentity = { deviceId: string; publicKeyRaw: string; privateKeyPem: string };

function fromPem(privateKeyPem: string): DeviceIdentity {
  const priv = crypto.createPrivateKey(privateKeyPem);
  const spki = crypto.createPublicKey(priv).export({ type: "spki", format: "der" });
  // An Ed25519 SPKI is a fixed 12-byte header followed by the 32-byte key.
  const raw = spki.subarray(spki.length - 32);
  return { deviceId: crypto.createHash("sha256").update(raw).digest("hex"), publicKeyRaw: raw.toString("base64url"), privateKeyPem };
}

export function loadOrCreateDeviceIdentity(file: string): DeviceIdentity {
  if (fs.existsSync(file)) {
    const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { privateKeyPem?: unknown };
    if (typeof stored.privateKeyPem !== "string") throw new Error(`${file}: no privateKeyPem; move the file away to create a new device identity`);
    return fromPem(stored.privateKeyPem);
  }
  const { privateKey } = crypto.generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  writePrivateFileAtomic(file, `${JSON.stringify({ version: 1, privateKeyPem: pem, createdAt: new Date().toISOString() })}\n`);
  return fromPem(pem);
}

/** The v3 device-auth payload the gateway verifies (fields joined by "|"; platform and family lower-cased). */
export function deviceAuthPayloadV3(p: { deviceId: string; clientId: string; clientMode: string; role: string; scopes: string[]; signedAtMs: number; token: string; nonce: string; platform: string; deviceFamily: string }): string {
  const lower = (s: string) => s.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
  return ["v3", p.deviceId, p.clientId, p.clientMode, p.role, p.scopes.join(","), String(p.signedAtMs), p.token, p.nonce, lower(p.platform), lower(p.deviceFamily)].join("|");
}

export function signPayload(identity: DeviceIdentity, payload: string): string {
  return crypto.sign(null, Buffer.from(payload, "utf8"), crypto.createPrivateKey(identity.privateKeyPem)).toString("base64url");
}
