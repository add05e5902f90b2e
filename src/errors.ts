/**
 * The one catalog of errors Pinwheel returns. Every entry has a stable code, an HTTP status
 * and a message. Device API (Blynk-compatible) errors carry Blynk's exact texts and are
 * serialised as {"error":{"message"}}; platform API errors as {"error":{"code","message"}}.
 * README.md lists them all; test/errors.test.ts keeps the two in sync.
 */
export interface ErrorDef {
  readonly status: number;
  readonly message: string;
}

export const deviceErrors = {
  INVALID_TOKEN: { status: 400, message: 'Invalid token.' },
  NO_TOKEN: { status: 400, message: 'No token provided.' },
  WRONG_PIN: { status: 400, message: 'Wrong pin format.' },
  TYPE_MISMATCH: { status: 400, message: "Value doesn't match the Datastream data type." },
  VALUE_TOO_LONG: { status: 400, message: 'Value is too long. Maximum is 1024 bytes.' },
  NO_DATASTREAM: { status: 400, message: 'No datastream setup for that pin.' },
  WRONG_DATASTREAM_ID: { status: 400, message: 'Wrong dataStreamId format.' },
  DATASTREAM_NOT_IN_PRODUCT: {
    status: 400,
    message: "Requested dataStream doesn't exist in the product {template}",
  },
  NO_EVENT_CODE: { status: 400, message: 'Event code is not provided.' },
  EVENT_NOT_FOUND: { status: 400, message: "Can't find Event with this code in Product template" },
  EVENT_DESCRIPTION_TOO_LONG: {
    status: 400,
    message: 'Event description is too long. Maximum is 300 characters.',
  },
  WRONG_METAFIELD: { status: 400, message: 'Wrong metaField format.' },
  METAFIELD_NOT_FOUND: { status: 400, message: "MetaField doesn't exist." },
  WRONG_VALUE: { status: 400, message: 'Wrong value' },
  UNKNOWN_CONTENT_TYPE: { status: 400, message: 'Unknown content type.' },
  BATCH_TOO_BIG: {
    status: 400,
    message: 'Too much data in batch. Maximum batch size is {max} points.',
  },
  INCORRECT_PARAMETERS: { status: 400, message: 'Request with incorrect parameters' },
  NO_DATA: { status: 400, message: 'No data' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request is too large.' },
  STORAGE_UNAVAILABLE: { status: 503, message: 'Storage is unavailable; nothing was written.' },
} as const satisfies Record<string, ErrorDef>;

export const platformErrors = {
  VALIDATION_FAILED: { status: 400, message: 'Invalid request: {detail}' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  INVALID_VALUE: { status: 400, message: '{detail}' },
  UNAUTHORIZED: { status: 401, message: 'Authentication required' },
  INVALID_CREDENTIALS: { status: 401, message: 'Wrong email or password' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do this' },
  NOT_FOUND: { status: 404, message: '{resource} not found' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No route {method} {url}' },
  SETUP_DONE: { status: 409, message: 'Setup has already been completed' },
  CONFLICT: { status: 409, message: '{detail}' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type {type}' },
  TOO_MANY_ATTEMPTS: {
    status: 429,
    message: 'Too many failed logins from this address; try again in {seconds} seconds',
  },
  INTERNAL: { status: 500, message: 'Internal server error' },
  STORAGE_UNAVAILABLE: { status: 503, message: 'Storage is unavailable; nothing was written' },
} as const satisfies Record<string, ErrorDef>;

export type DeviceErrorCode = keyof typeof deviceErrors;
export type PlatformErrorCode = keyof typeof platformErrors;

function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** An error of the device API: answered as {"error":{"message"}} with Blynk's text. */
export class DeviceApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: DeviceErrorCode,
    params: Record<string, string | number> = {},
  ) {
    const def = deviceErrors[code];
    super(fill(def.message, params));
    this.status = def.status;
  }
  toBody(): { error: { message: string } } {
    return { error: { message: this.message } };
  }
}

/** An error of the platform API: answered as {"error":{"code","message"}}. */
export class PlatformError extends Error {
  readonly status: number;
  constructor(
    readonly code: PlatformErrorCode,
    params: Record<string, string | number> = {},
  ) {
    const def = platformErrors[code];
    super(fill(def.message, params));
    this.status = def.status;
  }
  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const notFound = (resource: string) => new PlatformError('NOT_FOUND', { resource });
export const invalid = (detail: string) => new PlatformError('INVALID_VALUE', { detail });
export const conflict = (detail: string) => new PlatformError('CONFLICT', { detail });
