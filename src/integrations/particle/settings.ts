/** Settings of one Particle integration (everything but the access token). */
export interface ParticleSettings {
  /** Product id or slug: the product event stream and product function endpoints; null = the token's own devices. */
  productId: string | null;
  /** Datastream (pin or name) → cloud function called with each user-originated write. */
  functions: Record<string, string>;
  /** Most function calls per minute for the whole integration; null = no quota. */
  perMinute: number | null;
  /** Create a device on the first event of an unknown Particle device. */
  autoCreate: boolean;
}

export const PARTICLE_DEVICE_METAFIELD = 'Particle Device ID';

/** Particle function names: 1..64 characters (Device OS ≥ 0.8). */
export const FUNCTION_NAME_RE = /^[A-Za-z0-9_.\-/]{1,64}$/;
