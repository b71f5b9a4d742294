import { AsyncCurve25519Wrapper } from '@privacyresearch/curve25519-typescript';
import type { AsyncCurve, KeyPair } from '@privacyresearch/curve25519-typescript';
import { setCurve } from '@privacyresearch/libsignal-protocol-typescript';
import { bytesEqual, toArrayBuffer } from './bytes.js';

/**
 * The DER header of a PKCS#8 X25519 private key (RFC 8410): SEQUENCE { version 0,
 * AlgorithmIdentifier { id-X25519 1.3.101.110 }, OCTET STRING { OCTET STRING (32 bytes) } }.
 */
const PKCS8_X25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const X25519 = { name: 'X25519' } as const;
/** The base point u = 9: X25519(priv, 9) is the public key. */
const BASE_POINT = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 9 : 0));
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
// RFC 7748, section 6.1: the probe checks WebCrypto against these.
const RFC7748_ALICE_PRIVATE = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const RFC7748_BOB_PUBLIC = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const RFC7748_SHARED = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');

/**
 * Curve25519 for the Signal library with the two hot operations, key generation and the
 * Diffie-Hellman agreement, done by the platform's WebCrypto X25519 (native code in browsers
 * and Node) instead of the library's asm.js build of curve25519-donna, which costs several
 * milliseconds per operation (a sign-up makes over a hundred key pairs). The results are the
 * same X25519 function (RFC 7748); the tests check both against each other and the RFC's
 * vectors. XEdDSA signing and verifying, which WebCrypto does not offer, stay with the library.
 * Where WebCrypto lacks any part of X25519, everything stays with the library.
 *
 * Unlike donna's agreement, X25519 here clamps the private key itself; every private key the
 * client holds comes from {@link WebCryptoCurve.keyPair} (or donna's, which clamps the same way),
 * so the results agree. Do not feed it private key bytes made elsewhere without clamping them.
 */
export class WebCryptoCurve implements AsyncCurve {
  private readonly fallback = new AsyncCurve25519Wrapper();
  private supported: Promise<boolean> | undefined;

  /**
   * Whether this platform's WebCrypto does everything used here (asked once): importing a PKCS#8
   * private key and a raw public key and deriving bits, checked against RFC 7748's vector.
   * @returns true when it does
   */
  available(): Promise<boolean> {
    this.supported ??= x25519(RFC7748_ALICE_PRIVATE, RFC7748_BOB_PUBLIC).then(
      (secret) => bytesEqual(new Uint8Array(secret), RFC7748_SHARED),
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
    const pub = await x25519(priv, BASE_POINT);
    return { pubKey: pub, privKey: priv.buffer };
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
    return x25519(new Uint8Array(privKey), new Uint8Array(pubKey));
  }

  sign(privKey: ArrayBuffer, message: ArrayBuffer): Promise<ArrayBuffer> {
    return this.fallback.sign(privKey, message);
  }

  verify(pubKey: ArrayBuffer, message: ArrayBuffer, sig: ArrayBuffer): Promise<boolean> {
    return this.fallback.verify(pubKey, message, sig);
  }
}

/**
 * X25519(priv, pub) with WebCrypto; the private key is imported non-extractable.
 * @param priv 32-byte scalar (clamped again by X25519 itself)
 * @param pub 32-byte u-coordinate
 * @returns the 32-byte result
 */
async function x25519(priv: Uint8Array, pub: Uint8Array): Promise<ArrayBuffer> {
  const der = new Uint8Array(PKCS8_X25519_PREFIX.length + 32);
  der.set(PKCS8_X25519_PREFIX);
  der.set(priv, PKCS8_X25519_PREFIX.length);
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey('pkcs8', der, X25519, false, ['deriveBits']),
    crypto.subtle.importKey('raw', toArrayBuffer(pub), X25519, false, []),
  ]);
  const out = await crypto.subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256);
  if (out.byteLength !== 32) throw new Error('X25519: unexpected result length');
  return out;
}

let installed = false;

/** Makes the Signal library use {@link WebCryptoCurve} (once; every protocol module calls it). */
export function useWebCryptoCurve(): void {
  if (installed) return;
  installed = true;
  setCurve(new WebCryptoCurve());
}
