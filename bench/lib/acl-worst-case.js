// The costliest ACLs and required accesses the service's limits allow (issue
// 16), shared by the matcher's cost test (packages/acl/test/cost.test.ts) and
// bench/acl-worst-case.js. Plain JS; types in ./acl-worst-case.d.ts.
//
// The limits are src/security/limits.ts's (test/security/acl-cost.test.ts
// checks that these equal them and that every entry below passes them).
// Each case is one ACL of LIMITS.entries distinct accesses, all shaped to
// make the matcher work on one required access of LIMITS.length characters:
// the shapes that cost most while writing the matcher (a backtracking or
// NFA-based matcher is exponential or quadratic on several of them).

export const LIMITS = Object.freeze({ entries: 1024, length: 512, wildcards: 16 });

/** Wildcards of an access as the service counts them: `*`, `#`, and whole `me` / `my_session` / `edit` segments. */
export function wildcards(access) {
  const body = access.startsWith('!') ? access.slice(1) : access;
  const stars = [...body].filter((c) => c === '*' || c === '#').length;
  return stars + body.split('.').filter((s) => s === 'me' || s === 'my_session' || s === 'edit').length;
}

const fit = (text, length) => text.repeat(Math.ceil(length / text.length)).slice(0, length);

/** `make(i)` for i < entries, padded or cut so that every access is distinct. */
function acl(entries, make) {
  return Array.from({ length: entries }, (_, i) => make(i));
}

/**
 * The cases: { name, description, acl, scope, granted } where `granted` is
 * the expected answer (the costliest checks are the ones that find nothing).
 * `ctx` is the identity of the token (auth_id `u`, for `me`).
 */
export function worstCases(limits = LIMITS) {
  const { entries: n, length: L } = limits;
  const w = limits.wildcards;
  const cases = [
    {
      name: 'issue-16',
      description: 'the report: negative `!#*a*a*a…*<i>_0#` (16 wildcards), scope a…a1_0',
      acl: acl(n, (i) => {
        const tail = `${i}_0#`;
        const head = '!#' + '*a'.repeat(w - 2);
        return head + 'a'.repeat(L - head.length - tail.length) + tail;
      }),
      scope: 'a'.repeat(L - 3) + '1_0',
      granted: false,
    },
    {
      name: 'star-literal',
      description: '`#*x*aaa…a<i>#`: a `*` before a long literal run (an NFA keeps every position of the run alive)',
      acl: acl(n, (i) => {
        const tail = `${i}#`;
        return '#*x*' + 'a'.repeat(L - 4 - tail.length) + tail;
      }),
      scope: 'x' + 'a'.repeat(L - 1),
      granted: false,
    },
    {
      name: 'slide',
      description: '`#a.b.a.b.*b*.#z<i>`: a periodic scope on which a RUN and a `*` segment never line up',
      acl: acl(n, (i) => `#a.b.a.b.*b*.#z${i}`),
      scope: fit('a.b.', L),
      granted: false,
    },
    {
      name: 'periodic-run',
      description: '`#(ab.cd.)^40c*.(ab.cd.)^40<i>#`: long periodic literal runs on both sides of a `*` segment',
      acl: acl(n, (i) => `#${'ab.cd.'.repeat(40)}c*.${'ab.cd.'.repeat(40)}${i}#`.slice(0, L)),
      scope: fit('ab.cd.', L),
      granted: false,
    },
    {
      name: 'substitutions',
      description: '`#*.me.me…me.<i>#` (13 `me`): a long chain of whole-segment alternations',
      acl: acl(n, (i) => `#*${'.me'.repeat(w - 3)}.${i}#`),
      scope: fit('me.', L),
      granted: false,
    },
    {
      name: 'star-segments',
      description: '`#*.*.…*.x.x.…<i>#`: 14 `*` segments before a long dotted literal',
      acl: acl(n, (i) => `#${'*.'.repeat(w - 2)}${'x.'.repeat(200)}${i}#`.slice(0, L)),
      scope: fit('x.', L),
      granted: false,
    },
    {
      name: 'hashes',
      description: '`#a.a#a.a…#<i>` (16 `#`): many chunks placed one after the other',
      acl: acl(n, (i) => `${'#a.a'.repeat(w - 1)}#${i}`),
      scope: fit('a.', L),
      granted: false,
    },
    {
      name: 'star-chunks',
      description: '`#a*a.#a*a.…#<i>` (8 × `#a*a.`): `*` inside segments, in many chunks',
      acl: acl(n, (i) => `${'#a*a.'.repeat(Math.floor((w - 1) / 2))}#${i}`),
      scope: fit('aa.', L),
      granted: false,
    },
  ];
  // All of them at once: one ACL made of slices of every case, against every scope.
  const per = Math.floor(n / cases.length);
  const mixed = cases.flatMap((c) => c.acl.slice(0, per));
  for (const c of [...cases]) {
    cases.push({
      name: `mixed/${c.name}`,
      description: `every shape above, against ${c.name}'s scope`,
      acl: mixed,
      scope: c.scope,
      granted: false,
    });
  }
  return cases;
}

/**
 * A typical token for comparison: the shape of a Wazo user's default policy
 * (segment-aligned accesses, `me`, `*` segments, trailing `.#`, a few
 * negatives), about 300 accesses, against a required access it does not grant.
 */
export function typicalCase() {
  const services = ['confd', 'calld', 'chatd', 'dird', 'webhookd', 'agentd', 'amid', 'call-logd', 'websocketd', 'auth'];
  const resources = ['users', 'lines', 'voicemails', 'meetings', 'contacts', 'rooms', 'subscriptions', 'switchboards'];
  const verbs = ['read', 'create', 'update', 'delete'];
  const list = [];
  for (const s of services) {
    for (const r of resources) {
      list.push(`${s}.users.me.${r}.read`, `${s}.users.me.${r}.*.read`, `${s}.users.me.${r}.*.update`);
    }
    list.push(`${s}.users.me.#`, `!${s}.users.me.secrets.#`, `${s}.status.read`);
    for (const v of verbs) list.push(`${s}.config.${v}`);
  }
  return {
    name: 'typical',
    description: `${list.length} Wazo-like accesses`,
    acl: list,
    scope: 'confd.tenants.00000000-0000-4000-8000-000000000000.lines.1234.update',
    granted: false,
  };
}

/**
 * Median CPU and wall milliseconds of `acl.matches(scope)` over `runs` runs
 * after `warmup` (CPU time: what the check costs the event loop, whatever
 * else shares the machine).
 */
export function measure(compiled, scope, { runs = 7, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) compiled.matches(scope);
  const cpu = [];
  const wall = [];
  let result = false;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    result = compiled.matches(scope);
    wall.push(performance.now() - t0);
    const d = process.cpuUsage(c0);
    cpu.push((d.user + d.system) / 1000);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { cpuMs: median(cpu), wallMs: median(wall), result };
}
