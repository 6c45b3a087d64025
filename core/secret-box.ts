// Encryption at rest for what must be stored but never shown: a stack's
// sensitive inputs (and, later, webhook secrets). AES-256-GCM with the key
// from ENCRYPTION_KEY; each value is bound to what it belongs to (the
// associated data, such as the stack id), so a ciphertext copied onto
// another record does not decrypt.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export class SecretBox {
  readonly #key: Buffer;
  readonly #digestKey: Buffer;
  // Names the key in every ciphertext, so a wrong key is named as such
  // rather than failing as corrupt data.
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError('the key must be 32 bytes');
    this.#key = key;
    this.#digestKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'tfcompute digest', 32));
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  // A keyed digest: compares secrets without keeping anything that could be
  // guessed from (a plain hash of a short password could).
  digest(text: string): string {
    return createHmac('sha256', this.#digestKey).update(text).digest('hex');
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.keyId, iv.toString('base64url'), sealed.toString('base64url')].join(':');
  }

  open(ciphertext: string, associatedData: string): string {
    const [version, keyId, iv, sealed] = ciphertext.split(':');
    if (version !== VERSION || !iv || !sealed) throw new SecretBoxError('not a value this service encrypted');
    if (keyId !== this.keyId) {
      throw new SecretBoxError(
        `encrypted with another ENCRYPTION_KEY (key id ${keyId}); this process has key id ${this.keyId}`,
      );
    }
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretBoxError('the encrypted value does not match its key or record (tampered with, or moved)');
    }
  }
}
