import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, createTokenVerifier, type TokenVerifier } from '../auth/tokens.js';

/** The default path of user-service's JWKS, which {@link TokenIssuer.serve} answers on too. */
export const JWKS_PATH = '/api/user/.well-known/jwks.json';

/** A JWKS served over HTTP on 127.0.0.1 by {@link TokenIssuer.serve}. */
export interface ServedJwks {
  /** URL to put in a service's `JWKS_URL`. */
  url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * A stand-in for user-service's token issuer in tests and the benchmark: an ES256 key, its
 * public JWKS (in memory for in-process services, over HTTP for child processes) and a minting
 * function. Tokens carry what user-service's carry (issuer, audience, `sub`, `sid`, `auth_time`), so the
 * services verify them exactly as they verify real ones.
 */
export class TokenIssuer {
  private verifier: TokenVerifier | undefined;

  private constructor(
    private readonly privateKey: CryptoKey,
    /** The public key set (one key). */
    readonly jwks: JSONWebKeySet,
    /** The key id in every token's header. */
    readonly kid: string,
    private readonly defaultTtlSeconds: number,
  ) {}

  /**
   * Generates a fresh key pair.
   * @param opts `defaultTtlSeconds`: lifetime of {@link mint}ed tokens when not given (default 900;
   *   the benchmark uses hours so no socket expires mid-run)
   * @returns the issuer
   */
  static async create(opts: { defaultTtlSeconds?: number } = {}): Promise<TokenIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `test-${randomUUID().slice(0, 8)}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    return new TokenIssuer(privateKey, { keys: [jwk] }, kid, opts.defaultTtlSeconds ?? 900);
  }

  /**
   * Signs an access token for a user (issued 5 s ago, so a verifier's clock skew never matters).
   * @param userId the `sub` claim
   * @param ttlSeconds lifetime from now (negative: already expired)
   * @param opts `authTime`: the session's login time, epoch seconds (default: 5 s ago, a fresh
   *   login); `null` leaves the claim out (a token from before `auth_time` existed)
   * @returns a signed JWT
   */
  async mint(userId: string, ttlSeconds = this.defaultTtlSeconds, opts: { authTime?: number | null } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const authTime = opts.authTime === undefined ? now - 5 : opts.authTime;
    return new SignJWT(authTime === null ? { sid: randomUUID() } : { sid: randomUUID(), auth_time: authTime })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(userId)
      .setIssuedAt(now - 5)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.privateKey);
  }

  /** A verifier over this issuer's key set, for services booted in-process (`deps.verifyToken`). */
  get verifyToken(): TokenVerifier {
    this.verifier ??= createTokenVerifier(this.jwks);
    return this.verifier;
  }

  /**
   * Serves the key set over HTTP on 127.0.0.1 (for services in child processes, which fetch
   * `JWKS_URL`); every path answers it.
   * @returns its URL (ending in {@link JWKS_PATH}) and a stop function
   */
  async serve(): Promise<ServedJwks> {
    const body = JSON.stringify(this.jwks);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}${JWKS_PATH}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
