// Size limits on access-control data, shared by the request schemas and the
// services that grow an ACL one entry at a time.

/** Most accesses one policy may hold (POST/PUT /policies, PUT /policies/{uuid}/acl/{access}). */
export const MAX_ACL_ENTRIES = 1000;
/** Longest access pattern accepted. */
export const MAX_ACCESS_LENGTH = 512;
