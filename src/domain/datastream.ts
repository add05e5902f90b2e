/** Datastream model and the value types Pinwheel stores. */
export const DATASTREAM_TYPES = ['integer', 'double', 'string', 'enum', 'location'] as const;
export type DatastreamType = (typeof DATASTREAM_TYPES)[number];

/** A stored value: numbers for integer/double/enum, text for string, [lon, lat] for location. */
export type StoredValue = number | string | [number, number];

export interface EnumOption {
  value: number;
  label: string;
  color?: string | undefined;
}

export interface Datastream {
  id: number;
  templateId: string;
  name: string;
  pin: string;
  type: DatastreamType;
  min: number | null;
  max: number | null;
  decimals: string | null;
  units: string | null;
  defaultValue: StoredValue | null;
  saveRaw: boolean;
  syncOnConnect: boolean;
  options: EnumOption[] | null;
  fallback: number | null;
  color: string | null;
}

export const INT32_MIN = -2_147_483_648;
export const INT32_MAX = 2_147_483_647;
export const MAX_STRING_BYTES = 1024;

export function isNumericType(type: DatastreamType): boolean {
  return type === 'integer' || type === 'double' || type === 'enum';
}
