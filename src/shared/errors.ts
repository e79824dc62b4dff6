/**
 * The error catalogue: every failure a client can see has a stable code, an HTTP status and a title.
 * Routes and services throw AppError; src/http/error-handler.ts renders it as RFC 9457 problem+json.
 */
export const errorCatalogue = {
  VALIDATION_FAILED: { status: 400, title: 'Request is not valid' },
  UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  QUEUE_TOKEN_INVALID: { status: 401, title: 'Queue token is missing or invalid' },
  QUEUE_TOKEN_EXPIRED: { status: 401, title: 'Queue token has expired' },
  INSUFFICIENT_BALANCE: { status: 402, title: 'Insufficient balance' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  QUEUE_NOT_ADMITTED: { status: 403, title: 'Still waiting in the queue' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  SEAT_UNAVAILABLE: { status: 409, title: 'Seat is not available' },
  RESERVATION_NOT_PAYABLE: { status: 409, title: 'Reservation cannot be paid' },
  EVENT_CODE_TAKEN: { status: 409, title: 'Event code is already in use' },
  RESERVATION_NOT_CANCELABLE: { status: 409, title: 'Reservation cannot be canceled' },
  HOLD_LIMIT_REACHED: { status: 409, title: 'Too many seats held at once' },
  IDEMPOTENCY_CONFLICT: { status: 409, title: 'Idempotency key reused with a different request' },
  REFUND_WINDOW_CLOSED: { status: 409, title: 'Too close to the date for a refund' },
  SCHEDULE_CANCELED: { status: 409, title: 'The date was canceled' },
  EVENT_SOLD_OUT: { status: 409, title: 'Every seat is sold' },
  SALE_ALREADY_OPEN: { status: 409, title: 'The sale has already opened' },
  RESERVATION_EXPIRED: { status: 410, title: 'Reservation has expired' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body is too large' },
  URI_TOO_LONG: { status: 414, title: 'Request URL is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal error' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service temporarily unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Overrides the catalogue status where one code serves two statuses (QUEUE_TOKEN_INVALID: 401 or 403). */
  constructor(code: ErrorCode, detail: string, options: { status?: number; cause?: unknown } = {}) {
    // An expected outcome (a 409 in a hold storm) is thrown thousands of times a second and never
    // logged with a stack, so none is captured: that was measurable CPU under load.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail, { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? errorCatalogue[code].status;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
