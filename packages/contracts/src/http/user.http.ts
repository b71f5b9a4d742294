import { z } from 'zod';

/** base64url (or base64) text of bounded length: OPAQUE messages travel like this. */
const b64 = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'must be base64 or base64url');

/** Lower-cased, trimmed email address. */
export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }));
/** Public handle: 3-32 chars of a-z, 0-9, `_` and `.`; stored lower-case. */
export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_.]{3,32}$/, 'must be 3-32 characters: a-z, 0-9, "_" or "."');
/** Name shown to other people. */
export const DisplayName = z.string().trim().min(1).max(64);

/** POST /auth/register/start */
export const RegisterStartBody = z.strictObject({
  email: Email,
  username: Username,
  /** OPAQUE `registrationRequest` from `client.startRegistration`. */
  registrationRequest: b64(256),
});
/** POST /auth/register/finish */
export const RegisterFinishBody = z.strictObject({
  email: Email,
  username: Username,
  displayName: DisplayName,
  /** OPAQUE `registrationRecord` from `client.finishRegistration`. */
  registrationRecord: b64(1024),
});
/** POST /auth/login/start */
export const LoginStartBody = z.strictObject({
  email: Email,
  /** OPAQUE `startLoginRequest`. */
  startLoginRequest: b64(512),
});
/** POST /auth/login/finish */
export const LoginFinishBody = z.strictObject({
  email: Email,
  /** OPAQUE `finishLoginRequest`. */
  finishLoginRequest: b64(512),
});
/** POST /auth/refresh (browsers send the cookie instead). */
export const RefreshBody = z.strictObject({ refreshToken: z.string().min(1).max(256).optional() });
/** POST /auth/verify-email */
export const VerifyEmailBody = z.strictObject({ token: z.string().min(1).max(256) });
/** POST /auth/password-reset/request */
export const PasswordResetRequestBody = z.strictObject({ email: Email });
/** POST /auth/password-reset/start: OPAQUE re-registration step 1 under a reset token. */
export const PasswordResetStartBody = z.strictObject({
  token: z.string().min(1).max(256),
  registrationRequest: b64(256),
});
/** POST /auth/password-reset/finish: stores the new OPAQUE record, revokes every session. */
export const PasswordResetFinishBody = z.strictObject({
  token: z.string().min(1).max(256),
  registrationRecord: b64(1024),
});
/** POST /me/password/start: OPAQUE re-registration while logged in (password change). */
export const PasswordChangeStartBody = z.strictObject({ registrationRequest: b64(256) });
/** POST /me/password/finish */
export const PasswordChangeFinishBody = z.strictObject({ registrationRecord: b64(1024) });
/** PATCH /me */
export const UpdateMeBody = z
  .strictObject({ displayName: DisplayName.optional(), username: Username.optional() })
  .refine((b) => b.displayName !== undefined || b.username !== undefined, {
    message: 'give at least one of displayName, username',
  });
/** Fewest characters a directory query needs (the directory never lists everyone). */
export const DIRECTORY_QUERY_MIN = 3;
/** GET /users query: at least {@link DIRECTORY_QUERY_MIN} characters (after trimming). */
export const DirectoryQuery = z.strictObject({
  query: z
    .string()
    .trim()
    .min(DIRECTORY_QUERY_MIN, `must be at least ${DIRECTORY_QUERY_MIN} characters`)
    .max(64),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z.string().max(256).optional(),
});

/** What anyone may see of a user. Never the email. */
export const PublicUser = z.object({
  id: z.uuid(),
  username: z.string(),
  displayName: z.string(),
});
/** What a user sees of themself. */
export const Me = PublicUser.extend({
  email: z.string(),
  emailVerified: z.boolean(),
  createdAt: z.iso.datetime(),
});
/** Answer of login/finish and refresh. */
export const AuthResult = z.object({
  user: Me,
  /** Only for non-browser clients: browsers get it in the httpOnly `cc_access` cookie only, so script in a page never sees it. */
  accessToken: z.string().optional(),
  /** Only for non-browser clients (browsers keep it in an httpOnly cookie). */
  refreshToken: z.string().optional(),
  /** Access token expiry (ISO 8601). */
  accessTokenExpiresAt: z.iso.datetime(),
});
/** GET /users answer. */
export const DirectoryPage = z.object({
  users: z.array(PublicUser),
  nextCursor: z.string().nullable(),
});

export type RegisterStartBody = z.infer<typeof RegisterStartBody>;
export type RegisterFinishBody = z.infer<typeof RegisterFinishBody>;
export type LoginStartBody = z.infer<typeof LoginStartBody>;
export type LoginFinishBody = z.infer<typeof LoginFinishBody>;
export type UpdateMeBody = z.infer<typeof UpdateMeBody>;
export type DirectoryQuery = z.infer<typeof DirectoryQuery>;
export type PublicUser = z.infer<typeof PublicUser>;
export type Me = z.infer<typeof Me>;
export type AuthResult = z.infer<typeof AuthResult>;
export type DirectoryPage = z.infer<typeof DirectoryPage>;

/** Header a non-browser client sends (any value but `browser`) to get the refresh token in the body and no cookies. */
export const NON_BROWSER_CLIENT_HEADER = 'X-Client';

/** Answer of register/start, me/password/start and password-reset/start. */
export const RegistrationStartAnswer = z.object({ registrationResponse: z.string() });
/** Answer of login/start. */
export const LoginStartAnswer = z.object({ loginResponse: z.string() });
/** 202 answer of password-reset/request and POST /me/verify-email (always the same, no enumeration). */
export const Accepted = z.object({ status: z.literal('accepted') });

/** One of my sessions (a login on one device / browser), from GET /me/sessions. */
export const MySession = z.object({
  /** Session (refresh-token family) id; DELETE /me/sessions/:id ends it. */
  id: z.uuid(),
  /** Login time. */
  createdAt: z.iso.datetime(),
  /** Last refresh. */
  lastUsedAt: z.iso.datetime(),
  /** When the session ends at the latest. */
  expiresAt: z.iso.datetime(),
  /** User-Agent at login. */
  userAgent: z.string(),
  /** Client IP at login. */
  ip: z.string(),
  /** Set when ended (only in the data export). */
  revokedAt: z.iso.datetime().nullable(),
  /** Whether this is the session making the request. */
  current: z.boolean().optional(),
});
/** GET /me/sessions answer. */
export const MySessions = z.object({ sessions: z.array(MySession) });
/** POST /me/sessions/revoke-others answer. */
export const RevokeOthersAnswer = z.object({ revoked: z.number().int().min(0) });

/** GET /me/export answer: everything user-service holds about me, minus credentials. */
export const DataExport = z.object({
  exportedAt: z.iso.datetime(),
  profile: Me.omit({ createdAt: true }).extend({ createdAt: z.iso.datetime() }),
  sessions: z.array(MySession.omit({ current: true })),
  auditLog: z.array(
    z.object({
      kind: z.string(),
      ip: z.string(),
      userAgent: z.string(),
      details: z.unknown(),
      at: z.iso.datetime(),
    }),
  ),
});

export type MySession = z.infer<typeof MySession>;
export type MySessions = z.infer<typeof MySessions>;
export type DataExport = z.infer<typeof DataExport>;
