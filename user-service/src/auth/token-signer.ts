import { SignJWT, importJWK, type CryptoKey, type JSONWebKeySet } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, strictAssert } from '@cipherchat/service-kit';
import type { PrivateEs256Jwk } from '../config.js';

/** Signs access tokens and publishes the public keys. */
export interface TokenSigner {
  /**
   * Signs an access token.
   * @param userId `sub`
   * @param sessionId `sid` (refresh-token family)
   * @param authTime `auth_time`: epoch seconds of the login (or registration) that started the
   *   session; refreshes keep it, so services can ask for a recent login (device registration)
   * @returns the JWT and its expiry
   */
  sign(userId: string, sessionId: string, authTime: number): Promise<{ token: string; expiresAt: Date }>;
  /** The JWKS: public parts of every configured key (current signer and rotated-out ones). */
  jwks: JSONWebKeySet;
}

/**
 * Creates the ES256 signer. The first key signs; every key is published so tokens signed
 * before a rotation keep verifying until they expire.
 * @param keys private JWKs (first = current)
 * @param ttlSeconds access token lifetime
 * @returns the signer
 */
export async function createTokenSigner(keys: readonly PrivateEs256Jwk[], ttlSeconds: number): Promise<TokenSigner> {
  const current = keys[0];
  strictAssert(current, 'at least one signing key');
  const signingKey = (await importJWK({ ...current, alg: 'ES256' }, 'ES256')) as CryptoKey;
  // Only the public members leave the process: never spread the private JWK here.
  const jwks: JSONWebKeySet = {
    keys: keys.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, y: k.y, kid: k.kid, alg: 'ES256', use: 'sig' })),
  };
  return {
    jwks,
    async sign(userId, sessionId, authTime) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + ttlSeconds;
      const token = await new SignJWT({ sid: sessionId, auth_time: authTime })
        .setProtectedHeader({ alg: 'ES256', kid: current.kid, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(signingKey);
      return { token, expiresAt: new Date(exp * 1000) };
    },
  };
}
