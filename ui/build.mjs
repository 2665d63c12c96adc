// Builds the UI into dist/ (index.html, assets/app.js, assets/app.css,
// assets/favicon.svg). With --tests: bundles test/*.test.ts into
// ../build/ui-test/ for `node --test`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tests = process.argv.includes('--tests');

if (tests) {
  const out = join(here, '..', 'build', 'ui-test');
  rmSync(out, { recursive: true, force: true });
  const entries = readdirSync(join(here, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(here, 'test', f));
  await build({
    entryPoints: entries,
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    external: ['node:*'],
    logLevel: 'warning',
  });
} else {
  const dist = join(here, 'dist');
  const assets = join(dist, 'assets');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(assets, { recursive: true });
  await build({
    entryPoints: { app: join(here, 'src', 'main.ts') },
    outdir: assets,
    bundle: true,
    minify: true,
    sourcemap: false,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  await build({
    entryPoints: { app: join(here, 'src', 'styles.css') },
    outdir: assets,
    bundle: true,
    minify: true,
    logLevel: 'warning',
  });
  copyFileSync(join(here, 'public', 'favicon.svg'), join(assets, 'favicon.svg'));
  // index.html last: it is the make stamp.
  copyFileSync(join(here, 'src', 'index.html'), join(dist, 'index.html'));
}
