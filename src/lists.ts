// A listing's parameters and answer, in every domain's listings (GET /users,
// /tenants, /audit, ...): the API validates them, the store applies them.

export interface ListQuery {
  /** Column name in the API's words (e.g. 'username'); validated by the caller. */
  order?: string;
  direction?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  /** Case-insensitive substring over the searchable columns. */
  search?: string;
}

export interface ListResult<T> {
  total: number;
  filtered: number;
  items: T[];
}
