import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for provider API keys. Guarantees:
 * - a fresh random 12-byte nonce per encryption (never reused with the same key);
 * - the provider id is the associated data: a ciphertext copied onto another provider's row does
 *   not decrypt;
 * - any change to ciphertext, nonce, tag or id makes `open` throw (the 16-byte tag authenticates
 *   all of them).
 * `keyVersion` names the master key that sealed a row, so keys can be rotated later.
 */
export interface SealedSecret {
  ciphertext: Buffer;
  nonce: Buffer;
  tag: Buffer;
  keyVersion: number;
}

export const NONCE_BYTES = 12;
export const MASTER_KEY_VERSION = 1;

/** `CONCLAVE_MASTER_KEY`: 32 bytes as 64 hex characters or base64 (standard or url-safe). */
export function parseMasterKey(raw: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(text) ? Buffer.from(text, 'base64') : null;
  if (!key || key.length !== 32) throw new Error('CONCLAVE_MASTER_KEY must be 32 bytes, as 64 hex characters or base64');
  return key;
}

export class SecretBox {
  constructor(
    private readonly key: Buffer,
    readonly keyVersion = MASTER_KEY_VERSION,
  ) {
    if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  }

  seal(plaintext: string, providerId: string): SealedSecret {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(providerId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext, nonce, tag: cipher.getAuthTag(), keyVersion: this.keyVersion };
  }

  /** Throws when the secret was tampered with, belongs to another provider, or another key sealed it. */
  open(sealed: SealedSecret, providerId: string): string {
    if (sealed.keyVersion !== this.keyVersion) throw new Error(`secret sealed with master key v${sealed.keyVersion}, this is v${this.keyVersion}`);
    if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== 16) throw new Error('malformed sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.nonce, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(providerId, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  }
}

/** What a response may show of a key. */
export function last4(apiKey: string): string {
  return apiKey.length <= 8 ? '****' : apiKey.slice(-4);
}
