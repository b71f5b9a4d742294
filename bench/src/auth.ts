import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@cipherchat/service-kit';

/**
 * A local stand-in for user-service's token issuer: an ES256 key, its JWKS served over HTTP on
 * 127.0.0.1, and a minting function. The benchmark measures the relay, not login, so synthetic
 * users get tokens signed here; chat-service verifies them exactly as it verifies real ones
 * (public key fetched from `JWKS_URL`).
 */
export interface LocalIssuer {
  /** URL chat-service fetches the public keys from. */
  jwksUrl: string;
  /**
   * Signs an access token for a user.
   * @param userId the `sub` claim
   * @param ttlSeconds lifetime (the bench uses hours so no socket expires mid-run)
   */
  mint(userId: string, ttlSeconds?: number): Promise<string>;
  /** Stops the JWKS server. */
  close(): Promise<void>;
}

/**
 * Generates a key pair and serves its JWKS.
 * @returns the issuer
 */
export async function startLocalIssuer(): Promise<LocalIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `bench-${randomUUID().slice(0, 8)}`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const body = JSON.stringify({ keys: [jwk] });
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const key: CryptoKey = privateKey;
  return {
    jwksUrl: `http://127.0.0.1:${port}/api/user/.well-known/jwks.json`,
    mint: (userId, ttlSeconds = 4 * 3600) =>
      new SignJWT({ sid: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(key),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
