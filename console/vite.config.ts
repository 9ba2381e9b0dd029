// Builds the admin web console (issue 25) into dist/console, served by the
// service at /console/ (src/http/routes/console.ts). Everything ships in the
// bundle: no CDN, nothing fetched at run time but the API.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: false,
  resolve: {
    // @xivo-auth/client sends with fetch in the browser (its `fetch` option);
    // its node:http imports are never called there.
    alias: {
      'node:http': here('src/node-http-stub.ts'),
      'node:https': here('src/node-http-stub.ts'),
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    // The CSP forbids data: scripts and inline styles: keep every asset a file.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
