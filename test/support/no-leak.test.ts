import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { expectNoLeak, findLeaks } from './no-leak';

describe('expectNoLeak (the leak detector itself)', () => {
  const secret = randomBytes(48);
  const piece = secret.subarray(7, 7 + 20);
  const clean = 'Key type aes256-gcm96 needs exactly 32 bytes; received 48 bytes (raw). spki-sha256:' + 'ab'.repeat(32);

  it('passes a message that holds no material', () => {
    expect(() => expectNoLeak(clean, secret)).not.toThrow();
    expect(findLeaks(clean, secret, 'some text secret', randomBytes(7))).toEqual([]);
  });

  it.each<[string, string]>([
    ['whole hex', `bad key ${secret.toString('hex')}`],
    ['upper-case hex of a 20-byte slice', `bad key ${piece.toString('hex').toUpperCase()} here`],
    ['base64 of the whole key', `key=${secret.toString('base64')}`],
    ['base64 of a slice at an odd offset', `key=${secret.subarray(1, 30).toString('base64')}`],
    ['base64 of a slice at offset 2', `key=${secret.subarray(2, 26).toString('base64')}`],
    ['base64url of a slice', `key=${secret.subarray(5, 40).toString('base64url')}`],
    ['raw bytes (latin1)', `key=${piece.toString('latin1')}`],
    ['Buffer inspection', inspect({ key: Buffer.from(piece) })],
    ['Buffer JSON', JSON.stringify({ key: Buffer.from(piece) })],
  ])('finds a planted leak: %s', (_name, text) => {
    expect(() => expectNoLeak(text, secret)).toThrow(/leaks key material/);
    // The failure report itself must not repeat the secret.
    let report = '';
    try { expectNoLeak(text, secret); } catch (e) { report = (e as Error).message; }
    expect(findLeaks(report, secret)).toEqual([]);
  });

  it('finds a short secret (7 bytes) written whole, in hex', () => {
    const short = randomBytes(7);
    expect(findLeaks(`x ${short.toString('hex')} y`, short)).not.toEqual([]);
  });

  it('finds a PEM body line, and the PEM body written as hex', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'sec1' }) as string;
    const line = pem.split('\n')[2];
    expect(findLeaks(`parse failed near ${line}`, pem)).toEqual(expect.arrayContaining([expect.stringMatching(/PEM body line/)]));
    const der = Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
    expect(findLeaks(`der ${der.toString('hex')}`, pem)).not.toEqual([]);
    expect(findLeaks(clean, pem)).toEqual([]);
  });

  it('finds a text secret (a JWK member) quoted verbatim', () => {
    const d = randomBytes(32).toString('base64url');
    expect(findLeaks(`received {"d":"${d}"}`, d)).not.toEqual([]);
  });
});
