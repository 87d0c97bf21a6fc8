// Bundles each Lambda handler into dist/<function>/index.mjs with esbuild, one self-contained file
// per function (the SDK clients included, so the deployed code runs the versions we tested).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

// BUILD_OUT_DIR lets the test suite package a private copy without racing a developer's dist/.
const outDir = process.env.BUILD_OUT_DIR ?? 'dist';

export const handlers = {
  sweep: 'src/handlers/sweep.ts',
  census: 'src/handlers/census.ts',
  create: 'src/handlers/create.ts',
  target: 'src/handlers/target.ts',
} as const;

await rm(outDir, { recursive: true, force: true });
await Promise.all(
  Object.entries(handlers).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: join(outDir, name, 'index.mjs'),
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      sourcemap: true,
      legalComments: 'none',
      // Some SDK dependencies are CommonJS and call require(); give the ESM bundle one.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'warning',
    }),
  ),
);
// `sls invoke local` require()s dist/<fn>/index or index.cjs and never tries index.mjs, so each
// function gets a CommonJS shim that imports the bundle. Lambda itself loads index.mjs first.
await Promise.all(
  Object.keys(handlers).map((name) =>
    writeFile(
      join(outDir, name, 'index.cjs'),
      "exports.handler = async (event, context) => (await import('./index.mjs')).handler(event, context);\n",
    ),
  ),
);
console.log(`built ${Object.keys(handlers).length} handlers into ${outDir}/`);
