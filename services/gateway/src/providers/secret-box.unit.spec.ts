import { randomBytes } from 'node:crypto';
import { last4, parseMasterKey, SecretBox } from './secret-box';

describe('SecretBox (AES-256-GCM, provider id as associated data)', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);
  const secret = 'sk-test-0123456789abcdef';

  it('round-trips, with a fresh nonce every time', () => {
    const a = box.seal(secret, 'openai');
    const b = box.seal(secret, 'openai');
    expect(a.nonce).toHaveLength(12);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.toString('utf8')).not.toContain(secret);
    expect(box.open(a, 'openai')).toBe(secret);
    expect(box.open(b, 'openai')).toBe(secret);
  });

  it.each([
    ['ciphertext', (s: ReturnType<SecretBox['seal']>) => ({ ...s, ciphertext: flip(s.ciphertext) })],
    ['nonce', (s: ReturnType<SecretBox['seal']>) => ({ ...s, nonce: flip(s.nonce) })],
    ['tag', (s: ReturnType<SecretBox['seal']>) => ({ ...s, tag: flip(s.tag) })],
    ['truncated tag', (s: ReturnType<SecretBox['seal']>) => ({ ...s, tag: s.tag.subarray(0, 8) })],
    ['key version', (s: ReturnType<SecretBox['seal']>) => ({ ...s, keyVersion: 2 })],
  ])('refuses a tampered %s', (_what, tamper) => {
    const sealed = box.seal(secret, 'openai');
    expect(() => box.open(tamper(sealed), 'openai')).toThrow();
  });

  it('refuses another provider id (associated data) and another master key', () => {
    const sealed = box.seal(secret, 'openai');
    expect(() => box.open(sealed, 'anthropic')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'openai')).toThrow();
  });

  it('parses hex and base64 master keys and refuses anything else', () => {
    expect(parseMasterKey(key.toString('hex')).equals(key)).toBe(true);
    expect(parseMasterKey(key.toString('base64')).equals(key)).toBe(true);
    expect(parseMasterKey(key.toString('base64url')).equals(key)).toBe(true);
    for (const bad of ['', 'short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), 'z'.repeat(64)]) {
      expect(() => parseMasterKey(bad)).toThrow(/32 bytes/);
    }
  });

  it('shows at most the last 4 characters', () => {
    expect(last4(secret)).toBe('cdef');
    expect(last4('short')).toBe('****');
  });
});

function flip(buf: Buffer): Buffer {
  const copy = Buffer.from(buf);
  copy[0] = copy[0]! ^ 0x01;
  return copy;
}
