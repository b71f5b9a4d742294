/**
 * An error answer from a service (`{error:{code,message,details}}`), or a transport failure
 * (`code` = `network_error` / `bad_response`). Clients switch on `code`.
 */
export class ApiError extends Error {
  /** HTTP status (0 for network errors). */
  readonly status: number;
  /** Stable snake_case code. */
  readonly code: string;
  /** Structured details, if the service sent any. */
  readonly details: unknown;

  /**
   * @param status HTTP status
   * @param code error code
   * @param message human-readable message
   * @param details structured details
   * @param options standard `cause`
   */
  constructor(status: number, code: string, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}
