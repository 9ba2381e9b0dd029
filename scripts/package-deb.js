#!/usr/bin/env node
// Builds the xivo-auth Debian package with Debian's own tools (dpkg-deb;
// dpkg-shlibdeps for the native modules' library dependencies) from the
// compiled tree (dist/, bin/) and a production-only node_modules
// (`npm ci --omit=dev`). Nothing is downloaded but npm dependencies.
// What goes where, and why: docs/packaging.md.
//
//   npm run package:deb [-- OPTIONS]
//   node scripts/package-deb.js [OPTIONS]
//
//   --no-build          use dist/ as it is (default: `npm run build` first)
//   --version V         upstream version (default: package.json's; "-" becomes "~")
//   --revision N        Debian revision (default: 1), the package is V-N
//   --out DIR           where the .deb goes (default: build/deb)
//   --compression TYPE  dpkg-deb -Z: xz (default), gzip, zstd or none
//   --no-cache          always run `npm ci --omit=dev` (default: reuse the
//                       production node_modules of the same lockfile, Node ABI
//                       and architecture, from node_modules/.cache/xivo-auth-deb)
//   --rebuild-native    compile the native modules (default: take them from the
//                       checkout's node_modules when it holds the same tarball,
//                       built, and it loads with this Node); implies --no-cache
//
// Prints the path of the .deb on the last line of stdout.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEB = path.join(ROOT, 'packaging', 'deb');
const NAME = 'xivo-auth';
const LIB = `/usr/lib/${NAME}`;

const USAGE =
  'usage: npm run package:deb -- [--no-build] [--version V] [--revision N] [--out DIR] [--compression xz|gzip|zstd|none] [--no-cache] [--rebuild-native]\n' +
  '(the options are described at the top of scripts/package-deb.js and in docs/packaging.md)\n';

function usage(message) {
  process.stderr.write(`package-deb: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    build: true,
    version: null,
    revision: '1',
    out: path.join(ROOT, 'build', 'deb'),
    compression: 'xz',
    cache: true,
    rebuildNative: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--no-build') o.build = false;
    else if (a === '--version') o.version = value();
    else if (a === '--revision') o.revision = value();
    else if (a === '--out') o.out = path.resolve(value());
    else if (a === '--compression') o.compression = value();
    else if (a === '--no-cache') o.cache = false;
    else if (a === '--rebuild-native') {
      o.rebuildNative = true;
      o.cache = false;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${a}`);
  }
  if (!['xz', 'gzip', 'zstd', 'none'].includes(o.compression)) usage(`unknown compression ${o.compression}`);
  if (!/^[0-9A-Za-z.+~]+$/.test(o.revision)) usage(`bad revision ${o.revision}`);
  return o;
}

function log(message) {
  process.stderr.write(`package-deb: ${message}\n`);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...opts,
  });
}

function need(cmd, hint) {
  try {
    run('sh', ['-c', `command -v ${cmd}`]);
  } catch {
    throw new Error(`${cmd} is missing: ${hint}`);
  }
}

/** npm's semver to a Debian upstream version: a pre-release sorts before the release. */
function debianUpstream(version) {
  if (!/^[0-9][0-9A-Za-z.+~-]*$/.test(version)) throw new Error(`cannot make a Debian version of ${version}`);
  return version.replace(/-/g, '~');
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Workspace packages (links in the lockfile) the root needs at run time: its
 * dependencies that are workspaces, and theirs, transitively.
 */
function requiredWorkspaces(rootPkg, lock) {
  const links = new Map();
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (entry.link && key.startsWith('node_modules/')) links.set(key.slice('node_modules/'.length), entry.resolved);
  }
  const needed = new Map();
  const visit = (deps) => {
    for (const name of Object.keys(deps ?? {})) {
      if (!links.has(name) || needed.has(name)) continue;
      const dir = links.get(name);
      needed.set(name, dir);
      const pkg = readJson(path.join(ROOT, dir, 'package.json'));
      visit({ ...pkg.dependencies, ...pkg.optionalDependencies });
    }
  };
  visit({ ...rootPkg.dependencies, ...rootPkg.optionalDependencies });
  return { links, needed };
}

/** Loads every native addon of a package with this Node (fails on an ABI mismatch). */
function addonsLoad(dir) {
  const addons = [];
  walkFiles(dir, (p, e) => {
    if (e.isFile() && p.endsWith('.node') && !p.includes('/obj.target/') && !path.basename(p).startsWith('test_')) addons.push(p);
  });
  if (addons.length === 0) return false;
  try {
    execFileSync(process.execPath, ['-e', 'for (const f of process.argv.slice(1)) require(f)', ...addons], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The packages with an install script (native modules: better-sqlite3). Each
 * is either taken from the checkout's node_modules, when that holds the very
 * same tarball (version and integrity, from node_modules/.package-lock.json)
 * already built and its addons load with this Node, or built here with
 * `npm rebuild` (compiles; always with --rebuild-native).
 */
function installScripts(opts, work, lock) {
  let checkout = {};
  try {
    checkout = readJson(path.join(ROOT, 'node_modules', '.package-lock.json')).packages ?? {};
  } catch {
    /* no checkout install */
  }
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (!entry.hasInstallScript || entry.dev || !existsSync(path.join(work, key))) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const mine = checkout[key];
    const source = path.join(ROOT, key);
    if (
      !opts.rebuildNative &&
      mine &&
      mine.version === entry.version &&
      mine.integrity === entry.integrity &&
      existsSync(source) &&
      !lstatSync(source).isSymbolicLink() &&
      addonsLoad(source)
    ) {
      rmSync(path.join(work, key), { recursive: true, force: true });
      cpSync(source, path.join(work, key), { recursive: true, verbatimSymlinks: true });
      if (addonsLoad(path.join(work, key))) {
        log(`${name} ${entry.version}: built addon reused from the checkout (same tarball, loads with Node ${process.version})`);
        continue;
      }
    }
    log(`${name} ${entry.version}: npm rebuild (compiles: this takes a while)`);
    const t0 = Date.now();
    run('npm', ['rebuild', name, '--foreground-scripts', '--loglevel=error'], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!addonsLoad(path.join(work, key))) throw new Error(`${name}: its native addon does not load after npm rebuild`);
    log(`${name}: built in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
}

/** `npm ci --omit=dev` of the root (workspaces as stubs), cached by what decides its content. */
function productionModules(opts, lock, links) {
  const lockText = readFileSync(path.join(ROOT, 'package-lock.json'));
  const h = createHash('sha256').update(lockText);
  const manifests = ['package.json', ...[...links.values()].sort().map((d) => path.join(d, 'package.json'))];
  for (const m of manifests) h.update(m).update(readFileSync(path.join(ROOT, m)));
  h.update(`${process.version} ${process.versions.modules} ${process.platform} ${process.arch}`);
  const key = h.digest('hex').slice(0, 16);
  const cacheRoot = path.join(ROOT, 'node_modules', '.cache', 'xivo-auth-deb');
  const cached = path.join(cacheRoot, `node_modules-${key}`);
  if (opts.cache && existsSync(path.join(cached, '.complete'))) {
    log(`production node_modules: cached (${path.relative(ROOT, cached)})`);
    return cached;
  }
  mkdirSync(cacheRoot, { recursive: true });
  const work = mkdtempSync(path.join(cacheRoot, 'work-'));
  try {
    for (const m of manifests) {
      mkdirSync(path.dirname(path.join(work, m)), { recursive: true });
      copyFileSync(path.join(ROOT, m), path.join(work, m));
    }
    copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(work, 'package-lock.json'));
    log('production node_modules: npm ci --omit=dev --ignore-scripts, then the install scripts');
    const started = Date.now();
    run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: work,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    log(`npm ci: ${Math.round((Date.now() - started) / 1000)} s`);
    installScripts(opts, work, lock);
    // The workspaces were stubs: their links are replaced per build (materializeWorkspaces).
    for (const name of links.keys()) rmSync(path.join(work, 'node_modules', name), { recursive: true, force: true });
    writeFileSync(path.join(work, 'node_modules', '.complete'), `${key}\n`);
    rmSync(cached, { recursive: true, force: true });
    renameSync(path.join(work, 'node_modules'), cached);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Older entries of other lockfiles: keep the cache to the latest few.
  const entries = readdirSync(cacheRoot)
    .filter((e) => e.startsWith('node_modules-') && e !== path.basename(cached))
    .map((e) => ({ e, t: statSync(path.join(cacheRoot, e)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { e } of entries.slice(2)) rmSync(path.join(cacheRoot, e), { recursive: true, force: true });
  return cached;
}

/** Removes build leftovers of native modules: only the .node files are loaded. */
function pruneNativeBuilds(nodeModules) {
  const sqlite = path.join(nodeModules, 'better-sqlite3');
  if (!existsSync(sqlite)) return;
  for (const p of [
    'deps',
    'src',
    'build/deps',
    'build/Release/obj',
    'build/Release/obj.target',
    'build/Release/.deps',
    'build/Release/test_extension.node',
  ]) {
    rmSync(path.join(sqlite, p), { recursive: true, force: true });
  }
  const release = path.join(sqlite, 'build', 'Release');
  if (existsSync(release)) for (const f of readdirSync(release)) if (f.endsWith('.a')) rmSync(path.join(release, f));
}

/** Replaces the workspace links with real copies (what `npm pack` ships) or drops them. */
function materializeWorkspaces(nodeModules, links, needed, packDir) {
  for (const name of links.keys()) rmSync(path.join(nodeModules, name), { recursive: true, force: true });
  for (const [name, dir] of needed) {
    const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: path.join(ROOT, dir) });
    const tarball = path.join(packDir, JSON.parse(out)[0].filename);
    const target = path.join(nodeModules, name);
    mkdirSync(target, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1', '--no-same-owner']);
    log(`workspace ${name}: copied from ${dir} (npm pack)`);
  }
  // .bin links of dropped workspaces would dangle.
  const bin = path.join(nodeModules, '.bin');
  if (existsSync(bin)) {
    for (const f of readdirSync(bin)) {
      const p = path.join(bin, f);
      if (!existsSync(p)) rmSync(p);
    }
  }
}

/** Every symlink must stay inside the package (no link back to the checkout). */
function assertSelfContained(dir) {
  const base = realpathSync(dir);
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) {
        const to = path.resolve(path.dirname(p), readlinkSync(p));
        if (!to.startsWith(`${base}/`)) throw new Error(`${p} links outside the package: ${to}`);
      } else if (e.isDirectory()) walk(p);
    }
  };
  walk(base);
}

function walkFiles(dir, fn) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, fn);
    else fn(p, e);
  }
}

/**
 * Directories 0755; files 0644, but scripts (#!) that were executable: 0755.
 * Native addons are dlopen()ed, not run: 0644, as Debian wants shared objects.
 */
function normalizeModes(dir) {
  const walk = (d) => {
    chmodSync(d, 0o755);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      let exec = (statSync(p).mode & 0o111) !== 0 && !p.endsWith('.node');
      if (exec) {
        const fd = openSync(p, 'r');
        const head = Buffer.alloc(2);
        readSync(fd, head, 0, 2, 0);
        closeSync(fd);
        exec = head.toString('latin1') === '#!';
      }
      chmodSync(p, exec ? 0o755 : 0o644);
    }
  };
  walk(dir);
}

/** Development dotfiles of the dependencies: never read at run time. */
const DEV_DOTFILES = new Set([
  '.npmignore',
  '.gitignore',
  '.gitattributes',
  '.gitmodules',
  '.travis.yml',
  '.editorconfig',
  '.eslintrc',
  '.eslintrc.js',
  '.eslintrc.cjs',
  '.eslintrc.json',
  '.eslintrc.yml',
  '.eslintignore',
  '.prettierrc',
  '.prettierignore',
  '.jshintrc',
  '.nycrc',
  '.taprc',
  '.airtap.yml',
  '.zuul.yml',
  '.coveralls.yml',
]);

function pruneDotfiles(nodeModules) {
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && !e.isSymbolicLink()) {
        if (e.name === '.github') rmSync(p, { recursive: true, force: true });
        else walk(p);
      } else if (e.isFile() && DEV_DOTFILES.has(e.name)) {
        rmSync(p);
      }
    }
  };
  walk(nodeModules);
}

/**
 * TypeScript declaration packages (@types/*): some dependencies list them as
 * dependencies (@node-saml/node-saml), but nothing loads them at run time.
 */
function pruneTypeDeclarations(nodeModules) {
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory() || e.isSymbolicLink()) continue;
      const p = path.join(d, e.name);
      if (e.name === '@types' && path.basename(d) === 'node_modules') rmSync(p, { recursive: true, force: true });
      else walk(p);
    }
  };
  walk(nodeModules);
}

/** strip --strip-unneeded on the native addons (as dh_strip would), when binutils is there. */
function stripAddons(tree) {
  try {
    need('strip', 'binutils');
  } catch {
    log('strip (binutils) missing: native addons left unstripped');
    return;
  }
  walkFiles(tree, (p, e) => {
    if (e.isFile() && p.endsWith('.node'))
      run('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', p]);
  });
}

function shlibsDepends(tree) {
  const natives = [];
  walkFiles(tree, (p, e) => {
    if (e.isFile() && p.endsWith('.node')) natives.push(p);
  });
  if (natives.length === 0) return { arch: 'all', depends: [] };
  const arch = run('dpkg', ['--print-architecture']).trim();
  let depends = [];
  try {
    need('dpkg-shlibdeps', 'install dpkg-dev');
    const scratch = mkdtempSync(path.join(tmpdir(), 'xivo-auth-shlibs-'));
    mkdirSync(path.join(scratch, 'debian'));
    writeFileSync(path.join(scratch, 'debian', 'control'), `Source: ${NAME}\n\nPackage: ${NAME}\nArchitecture: any\n`);
    // Warnings about V8/Node symbols (provided by the node binary) are expected.
    const out = execFileSync('dpkg-shlibdeps', ['-O', ...natives.map((n) => `-e${n}`)], {
      cwd: scratch,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    rmSync(scratch, { recursive: true, force: true });
    const line = out.split('\n').find((l) => l.startsWith('shlibs:Depends='));
    if (line)
      depends = line
        .slice('shlibs:Depends='.length)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  } catch (err) {
    log(`dpkg-shlibdeps unavailable or failed (${err.message.split('\n')[0]}): native library dependencies left to nodejs's`);
  }
  return { arch, depends, natives };
}

function installedSizeKiB(tree) {
  let kib = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (p === path.join(tree, 'DEBIAN')) continue;
      // As dpkg-gencontrol: each file's size rounded up to KiB, 1 for anything else.
      if (e.isDirectory()) {
        kib += 1;
        walk(p);
      } else if (e.isFile()) kib += Math.max(1, Math.ceil(lstatSync(p).size / 1024));
      else kib += 1;
    }
  };
  walk(tree);
  return kib;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  need('dpkg-deb', 'it comes with dpkg: build on Debian or a derivative');
  if (opts.build) {
    log('npm run build');
    run('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const distMain = path.join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(distMain)) throw new Error(`${distMain} is missing: run "npm run build" (or drop --no-build)`);

  const rootPkg = readJson(path.join(ROOT, 'package.json'));
  const lock = readJson(path.join(ROOT, 'package-lock.json'));
  const upstream = debianUpstream(opts.version ?? rootPkg.version);
  const version = `${upstream}-${opts.revision}`;

  const work = mkdtempSync(path.join(tmpdir(), 'xivo-auth-deb-'));
  try {
    const tree = path.join(work, 'root');
    const lib = path.join(tree, LIB.slice(1));
    mkdirSync(lib, { recursive: true });

    // The service: compiled code, entry point, a package.json for "type" and "exports".
    cpSync(path.join(ROOT, 'dist'), path.join(lib, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.tsbuildinfo') });
    cpSync(path.join(ROOT, 'bin'), path.join(lib, 'bin'), { recursive: true });
    const shipped = {
      name: rootPkg.name,
      version: rootPkg.version,
      description: rootPkg.description,
      type: rootPkg.type,
      private: true,
      license: rootPkg.license,
      engines: rootPkg.engines,
      bin: rootPkg.bin,
      exports: rootPkg.exports,
      dependencies: rootPkg.dependencies,
    };
    writeFileSync(path.join(lib, 'package.json'), `${JSON.stringify(shipped, null, 2)}\n`);
    mkdirSync(path.join(lib, 'libexec'));
    copyFileSync(path.join(DEB, 'wait-ready.js'), path.join(lib, 'libexec', 'wait-ready.js'));
    chmodSync(path.join(lib, 'libexec', 'wait-ready.js'), 0o755);

    // Production dependencies, workspace packages as real copies.
    const { links, needed } = requiredWorkspaces(rootPkg, lock);
    const modules = productionModules(opts, lock, links);
    cpSync(modules, path.join(lib, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    rmSync(path.join(lib, 'node_modules', '.complete'), { force: true });
    const packDir = path.join(work, 'packs');
    mkdirSync(packDir);
    materializeWorkspaces(path.join(lib, 'node_modules'), links, needed, packDir);
    pruneNativeBuilds(path.join(lib, 'node_modules'));
    pruneDotfiles(path.join(lib, 'node_modules'));
    pruneTypeDeclarations(path.join(lib, 'node_modules'));
    assertSelfContained(lib);
    stripAddons(lib);
    normalizeModes(lib);
    chmodSync(path.join(lib, 'bin', 'xivo-auth.js'), 0o755);

    // /usr/bin/xivo-auth: Node follows the link to the real bin/ (../dist resolves there).
    mkdirSync(path.join(tree, 'usr', 'bin'), { recursive: true });
    symlinkSync(`../lib/${NAME}/bin/xivo-auth.js`, path.join(tree, 'usr', 'bin', NAME));

    // Configuration (conffiles). Group xivo-auth and mode 0640 are set by postinst.
    const etc = path.join(tree, 'etc', NAME);
    mkdirSync(path.join(etc, 'conf.d'), { recursive: true });
    copyFileSync(path.join(DEB, 'config.yml'), path.join(etc, 'config.yml'));
    chmodSync(path.join(etc, 'config.yml'), 0o640);
    copyFileSync(path.join(DEB, 'conf.d-README'), path.join(etc, 'conf.d', 'README'));
    chmodSync(path.join(etc, 'conf.d', 'README'), 0o644);

    // systemd unit: /lib/systemd/system for bookworm (the /usr move came with trixie).
    const units = path.join(tree, 'lib', 'systemd', 'system');
    mkdirSync(units, { recursive: true });
    copyFileSync(path.join(DEB, 'xivo-auth.service'), path.join(units, 'xivo-auth.service'));

    // Documentation.
    const doc = path.join(tree, 'usr', 'share', 'doc', NAME);
    mkdirSync(doc, { recursive: true });
    copyFileSync(path.join(DEB, 'copyright'), path.join(doc, 'copyright'));
    copyFileSync(path.join(ROOT, 'README.md'), path.join(doc, 'README.md'));
    if (existsSync(path.join(ROOT, 'docs', 'packaging.md')))
      copyFileSync(path.join(ROOT, 'docs', 'packaging.md'), path.join(doc, 'packaging.md'));
    for (const d of [
      path.join(tree, 'usr'),
      path.join(tree, 'usr', 'bin'),
      path.join(tree, 'usr', 'share'),
      path.join(tree, 'usr', 'share', 'doc'),
      doc,
      path.join(tree, 'usr', 'lib'),
      path.join(tree, 'lib'),
      path.join(tree, 'lib', 'systemd'),
      units,
      path.join(tree, 'etc'),
      etc,
      path.join(etc, 'conf.d'),
    ])
      chmodSync(d, 0o755);
    const maintainer = process.env.DEB_MAINTAINER ?? 'xivo-auth dev <dev@xivo-auth.local>';
    const when = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000)) * 1000)
      .toUTCString()
      .replace('GMT', '+0000');
    writeFileSync(
      path.join(doc, 'changelog.Debian.gz'),
      gzipSync(
        Buffer.from(
          `${NAME} (${version}) unstable; urgency=medium\n\n  * Built from the xivo-auth source tree by scripts/package-deb.js.\n\n -- ${maintainer}  ${when}\n`,
        ),
        { level: 9 },
      ),
    );
    for (const f of readdirSync(doc)) chmodSync(path.join(doc, f), 0o644);
    chmodSync(path.join(units, 'xivo-auth.service'), 0o644);

    // Control area.
    const { arch, depends } = shlibsDepends(lib);
    const control = path.join(tree, 'DEBIAN');
    mkdirSync(control);
    const allDepends = ['nodejs (>= 20)', 'adduser', ...depends];
    const fields = [
      ['Package', NAME],
      ['Version', version],
      ['Architecture', arch],
      ['Maintainer', maintainer],
      ['Installed-Size', String(installedSizeKiB(tree))],
      ['Depends', allDepends.join(', ')],
      ['Suggests', 'postgresql, rabbitmq-server'],
      ['Section', 'net'],
      ['Priority', 'optional'],
      [
        'Description',
        `${rootPkg.description}\n` +
          ' xivo-auth verifies credentials through pluggable backends (its own users,\n' +
          ' LDAP, service accounts, plugins), issues tokens carrying an ACL and answers\n' +
          ' other services asking whether a token grants an access. This package runs\n' +
          ' it as the xivo-auth system user under systemd, with an embedded SQLite\n' +
          ' database in /var/lib/xivo-auth (PostgreSQL for several instances).',
      ],
    ];
    writeFileSync(path.join(control, 'control'), `${fields.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
    writeFileSync(path.join(control, 'conffiles'), `/etc/${NAME}/config.yml\n/etc/${NAME}/conf.d/README\n`);
    for (const s of ['postinst', 'prerm', 'postrm']) {
      copyFileSync(path.join(DEB, s), path.join(control, s));
      chmodSync(path.join(control, s), 0o755);
    }
    // md5sums of everything but the conffiles (dpkg tracks those itself), as dh_md5sums does.
    const conffiles = new Set([`etc/${NAME}/config.yml`, `etc/${NAME}/conf.d/README`]);
    const sums = [];
    walkFiles(tree, (p, e) => {
      const rel = path.relative(tree, p);
      if (!e.isFile() || rel.startsWith('DEBIAN/') || conffiles.has(rel)) return;
      sums.push(`${createHash('md5').update(readFileSync(p)).digest('hex')}  ${rel}`);
    });
    sums.sort((a, b) => (a.slice(34) < b.slice(34) ? -1 : 1));
    writeFileSync(path.join(control, 'md5sums'), `${sums.join('\n')}\n`);
    chmodSync(control, 0o755);
    for (const f of ['control', 'conffiles', 'md5sums']) chmodSync(path.join(control, f), 0o644);

    mkdirSync(opts.out, { recursive: true });
    const deb = path.join(opts.out, `${NAME}_${version.replace(/^[0-9]+:/, '')}_${arch}.deb`);
    log(`dpkg-deb --build (${opts.compression})`);
    run('dpkg-deb', ['--root-owner-group', `-Z${opts.compression}`, '--build', tree, deb], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    log(`built ${deb} (${(statSync(deb).size / 1048576).toFixed(1)} MiB, ${version}, ${arch})`);
    process.stdout.write(`${deb}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`package-deb: ${err.message}\n`);
  process.exit(1);
}
