import type { ValueTransformer } from 'typeorm';

/**
 * BIGINT columns travel as decimal strings (mysql2 `bigNumberStrings`) and live in code as bigint,
 * so no value ever passes through a JS number and loses precision above 2^53.
 */
export const bigintTransformer: ValueTransformer = {
  to: (value: bigint | null | undefined): string | null | undefined =>
    value === null || value === undefined ? value : value.toString(),
  from: (value: string | number | null): bigint | null => (value === null ? null : BigInt(value)),
};
