import { Type, type SchemaOptions, type TSchema } from '@sinclair/typebox';

/** Shape primitives every module's schemas are built from; the HTTP-only ones live in src/http/schemas.ts. */

/** The canonical 8-4-4-4-12 form only (the `uuid` format alone also admits `urn:uuid:` prefixes). */
export const Uuid = Type.String({ format: 'uuid', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
export const Money = Type.Integer({ minimum: 0, description: 'Integer minor units (cents).' });
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(schema: T, options?: SchemaOptions) => Type.Union([schema, Type.Null()], options);
