import { AsyncCurve25519Wrapper } from '@privacyresearch/curve25519-typescript';
import type { AsyncCurve, KeyPair } from '@privacyresearch/curve25519-typescript';
import { setCurve } from '@privacyresearch/libsignal-protocol-typescript';
import { fromBase64 } from './bytes.js';

/**
 * The DER header of a PKCS#8 X25519 private key (RFC 8410): SEQUENCE { version 0,
 * AlgorithmIdentifier { id-X25519 1.3.101.110 }, OCTET STRING { OCTET STRING (32 bytes) } }.
 */
const PKCS8_X25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const X25519 = { name: 'X25519' } as const;

/**
 * Curve25519 for the Signal library with the two hot operations, key generation and the
 * Diffie-Hellman agreement, done by the platform's WebCrypto X25519 (native code in browsers
 * and Node) instead of the library's asm.js build of curve25519-donna, which costs several
 * milliseconds per operation (a sign-up makes over a hundred key pairs). The results are the
 * same X25519 function (RFC 7748); the tests check both against each other and the RFC's
 * vectors. XEdDSA signing and verifying, which WebCrypto does not offer, stay with the library.
 * Where WebCrypto lacks X25519, everything stays with the library.
 */
export class WebCryptoCurve implements AsyncCurve {
  private readonly fallback = new AsyncCurve25519Wrapper();
  private supported: Promise<boolean> | undefined;

  /**
   * Whether this platform's WebCrypto does X25519 (asked once).
   * @returns true when it does
   */
  available(): Promise<boolean> {
    this.supported ??= crypto.subtle.generateKey(X25519, false, ['deriveBits']).then(
      () => true,
      () => false,
    );
    return this.supported;
  }

  /**
   * The key pair of a private key, clamped as curve25519-donna clamps it.
   * @param privKey 32 random bytes
   * @returns the 32-byte public key and the clamped private key
   */
  async keyPair(privKey: ArrayBuffer): Promise<KeyPair> {
    if (!(await this.available())) return this.fallback.keyPair(privKey);
    const priv = new Uint8Array(privKey.slice(0));
    priv[0]! &= 248;
    priv[31]! &= 127;
    priv[31]! |= 64;
    const key = await importPrivate(priv, true);
    const jwk = await crypto.subtle.exportKey('jwk', key);
    if (typeof jwk.x !== 'string') throw new Error('X25519: the platform did not export the public key');
    return { pubKey: fromBase64(jwk.x).buffer, privKey: priv.buffer };
  }

  /**
   * X25519(privKey, pubKey). A low-order public key, whose result would be all zeros, is refused
   * (WebCrypto throws) rather than giving a shared secret anyone knows.
   * @param pubKey the other side's 32-byte public key
   * @param privKey our 32-byte private key
   * @returns the 32-byte shared secret
   */
  async sharedSecret(pubKey: ArrayBuffer, privKey: ArrayBuffer): Promise<ArrayBuffer> {
    if (!(await this.available())) return this.fallback.sharedSecret(pubKey, privKey);
    const [pub, priv] = await Promise.all([
      crypto.subtle.importKey('raw', pubKey, X25519, false, []),
      importPrivate(new Uint8Array(privKey), false),
    ]);
    return crypto.subtle.deriveBits({ name: 'X25519', public: pub }, priv, 256);
  }

  sign(privKey: ArrayBuffer, message: ArrayBuffer): Promise<ArrayBuffer> {
    return this.fallback.sign(privKey, message);
  }

  verify(pubKey: ArrayBuffer, message: ArrayBuffer, sig: ArrayBuffer): Promise<boolean> {
    return this.fallback.verify(pubKey, message, sig);
  }
}

function importPrivate(priv: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  const der = new Uint8Array(PKCS8_X25519_PREFIX.length + 32);
  der.set(PKCS8_X25519_PREFIX);
  der.set(priv, PKCS8_X25519_PREFIX.length);
  return crypto.subtle.importKey('pkcs8', der, X25519, extractable, ['deriveBits']);
}

let installed = false;

/** Makes the Signal library use {@link WebCryptoCurve} (once; every protocol module calls it). */
export function useWebCryptoCurve(): void {
  if (installed) return;
  installed = true;
  setCurve(new WebCryptoCurve());
}
