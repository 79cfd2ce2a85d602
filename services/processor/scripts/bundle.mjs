// One self-contained ESM file of the processor (dist/processor.mjs by default), for the Docker
// image and for tests that run it as a child process. Bundling also settles kafkajs' CommonJS
// exports, which Node's ESM loader cannot see by name (e.g. ConfigResourceTypes).
//   node scripts/bundle.mjs [outfile]
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.resolve(process.argv[2] ?? path.join(here, '../dist/processor.mjs'));
await build({
  entryPoints: [path.join(here, '../src/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  logLevel: 'warning',
  // Some dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __twRequire } from 'node:module'; const require = __twRequire(import.meta.url);",
  },
});
process.stdout.write(`${outfile}\n`);
