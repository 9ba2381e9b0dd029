// A real OpenLDAP slapd for the LDAP tests, stopped (by pid) and removed by
// the test file's afterAll. The code is shared with the benchmark: bench/lib/slapd.js.
import { startSlapd, type Person, type Slapd } from '../../bench/lib/slapd.js';

export {
  DEFAULT_PEOPLE,
  PEOPLE_DN,
  ROOT_DN,
  ROOT_PASSWORD,
  SERVICE_DN,
  SERVICE_PASSWORD,
  SUFFIX,
  type Slapd,
} from '../../bench/lib/slapd.js';

/**
 * Starts a throw-away slapd. The caller closes it in a top-level afterAll
 * (a hook registered from inside beforeAll is not run by vitest); the
 * process-exit guard of bench/lib/slapd.js is only the last resort.
 */
export async function startTestSlapd(options: { people?: Person[] } = {}): Promise<Slapd> {
  return startSlapd(options);
}
