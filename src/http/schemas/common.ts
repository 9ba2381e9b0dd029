// Schemas shared by several route groups (TypeBox: validation, serialisation
// and the OpenAPI document come from the same objects).
import { Type, type TSchema } from '@sinclair/typebox';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const Uuid = Type.String({ pattern: UUID_PATTERN });

/** Strings we store: bounded, and free of NUL (PostgreSQL refuses it in text). */
export function SafeString(opts: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ ...opts, pattern: '^[^\\u0000]*$' });
}

export const LegacyError = Type.Object(
  {
    reason: Type.Array(Type.String()),
    timestamp: Type.Array(Type.Number()),
    status_code: Type.Integer(),
  },
  { $id: 'LegacyError', description: 'Error body of the token endpoints' },
);

export const ApiError = Type.Object(
  {
    message: Type.String(),
    error_id: Type.String(),
    details: Type.Object({}, { additionalProperties: true }),
    timestamp: Type.Number(),
    resource: Type.Optional(Type.String()),
  },
  { $id: 'ApiError', description: 'Error body of every other endpoint' },
);

/** Largest page size of a listing. */
export const MAX_LIST_LIMIT = 10_000;
/**
 * Largest offset of a listing: a 32-bit integer, bound as such by both
 * SQLite and PostgreSQL (an unbounded one, 1e300, failed in the store: 500).
 */
export const MAX_LIST_OFFSET = 2_147_483_647;

export const ListParams = Type.Object({
  order: Type.Optional(Type.String({ maxLength: 64 })),
  direction: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIST_LIMIT })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIST_OFFSET })),
  search: Type.Optional(SafeString({ maxLength: 512 })),
  recurse: Type.Optional(Type.Boolean()),
});

/**
 * The body of a 204: none. Typed `undefined`, so that a typed reply's `send()`
 * takes no argument (Fastify writes no body then), while the schema stays the
 * `{ type: 'null' }` the OpenAPI document has always shown.
 */
export const NoContent = Type.Unsafe<undefined>(Type.Null());

export function listOf<T extends TSchema>(item: T) {
  return Type.Object({ total: Type.Integer(), filtered: Type.Integer(), items: Type.Array(item) });
}

export const AuthHeaders = Type.Object({
  'x-auth-token': Type.Optional(Type.String({ description: 'A token whose ACL grants the required access' })),
  'wazo-tenant': Type.Optional(Type.String({ description: "Act on this tenant (the caller's or a descendant)" })),
});
