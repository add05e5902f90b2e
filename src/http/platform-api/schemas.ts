/**
 * JSON Schema fragments shared by routes. Every integer has bounds: Ajv's integer type
 * accepts numbers like 1e309 that no database column holds.
 */
export const INT32_MAX = 2_147_483_647;

export const dbId = { type: 'integer', minimum: 1, maximum: INT32_MAX } as const;
export const smallId = { type: 'integer', minimum: 0, maximum: INT32_MAX } as const;
export const int32 = { type: 'integer', minimum: -2_147_483_648, maximum: INT32_MAX } as const;
/** Unix milliseconds, up to the largest date JavaScript represents. */
export const timestampMs = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 } as const;
export const offset = { type: 'integer', minimum: 0, maximum: 1_000_000_000, default: 0 } as const;
/**
 * A finite JSON number (JSON.parse turns 1e309 into Infinity). For "number or null" spread it
 * with `type: ['number', 'null']`: `anyOf` with a null branch lets Ajv's coercion turn 0 into
 * null or null into 0, depending on the order.
 */
export const finiteNumber = { type: 'number', minimum: -1e300, maximum: 1e300 } as const;
