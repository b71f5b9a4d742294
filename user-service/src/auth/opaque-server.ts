import * as opaque from '@serenity-kit/opaque';

/**
 * user-service's side of OPAQUE (RFC 9807) over `@serenity-kit/opaque`. The user identifier is
 * the lower-cased email, so a record is bound to the address it was registered for.
 * Every call wraps library errors: a malformed client message is the client's fault (4xx).
 */
export interface OpaqueServer {
  /** Registration step 1 (also used for password change and reset). */
  registrationResponse(email: string, registrationRequest: string): string | undefined;
  /**
   * Login step 1. With `record` undefined (unknown email), the library answers with a dummy
   * record built from the server setup's fake keypair: a response of the same length and
   * form, whose OPRF output is still derived from (server seed, email). Indistinguishable.
   */
  startLogin(email: string, record: string | undefined, startLoginRequest: string): { loginResponse: string; state: string } | undefined;
  /** Login step 2: true only when the client proved knowledge of the password. */
  finishLogin(state: string, finishLoginRequest: string): boolean;
  /** Whether bytes form a usable registration record (checked before storing one). */
  isValidRecord(record: string): boolean;
}

/**
 * Creates the OPAQUE server for a server setup.
 * @param serverSetup `OPAQUE_SERVER_SETUP`
 * @returns the server
 */
export async function createOpaqueServer(serverSetup: string): Promise<OpaqueServer> {
  await opaque.ready;
  // A valid client message to probe uploaded records with: if the library can start a login
  // against a record, the record deserialises (lengths, curve points) and cannot break logins later.
  const probe = opaque.client.startLogin({ password: 'record-probe' }).startLoginRequest;
  // Fails fast at boot when the setup is corrupt rather than at the first login.
  opaque.server.getPublicKey(serverSetup);
  return {
    registrationResponse(email, registrationRequest) {
      try {
        return opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: email, registrationRequest }).registrationResponse;
      } catch {
        return undefined;
      }
    },
    startLogin(email, record, startLoginRequest) {
      try {
        const r = opaque.server.startLogin({ serverSetup, userIdentifier: email, registrationRecord: record ?? null, startLoginRequest });
        return { loginResponse: r.loginResponse, state: r.serverLoginState };
      } catch {
        return undefined;
      }
    },
    finishLogin(state, finishLoginRequest) {
      try {
        opaque.server.finishLogin({ serverLoginState: state, finishLoginRequest });
        return true;
      } catch {
        return false;
      }
    },
    isValidRecord(record) {
      try {
        opaque.server.startLogin({ serverSetup, userIdentifier: 'probe', registrationRecord: record, startLoginRequest: probe });
        return true;
      } catch {
        return false;
      }
    },
  };
}
