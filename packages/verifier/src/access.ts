// Required-access templates: `confd.users.{user_uuid}.read` with the route's
// path parameters substituted, dots in their values turned into `_` (so a
// parameter can never add segments to the access), as xivo-auth does.

/** Names of the `{param}` placeholders of a template. */
export function templateParams(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

/**
 * The access for one request. A placeholder whose parameter is missing or
 * empty is an error: answering would check a different access than intended.
 */
export function requiredAccessFor(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (typeof value !== 'string' || value === '') {
      throw new Error(`required access ${template}: no path parameter "${name}" in this route`);
    }
    return value.replace(/\./g, '_');
  });
}
