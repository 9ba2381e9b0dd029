// A real OpenLDAP slapd for the LDAP tests, stopped (by pid) and removed after
// the file's tests. The code is shared with the benchmark: bench/lib/slapd.js.
import { afterAll } from 'vitest';
import { startSlapd, type Person, type Slapd } from '../../bench/lib/slapd.js';

export {
  DEFAULT_PEOPLE, PEOPLE_DN, ROOT_DN, ROOT_PASSWORD, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, type Slapd,
} from '../../bench/lib/slapd.js';

export async function startTestSlapd(options: { people?: Person[] } = {}): Promise<Slapd> {
  const slapd = await startSlapd(options);
  afterAll(() => slapd.close());
  return slapd;
}
