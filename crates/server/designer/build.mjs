// Bundles the designer (src/main.js and everything it imports: bpmn-js, the end user's form
// renderer from ../web/, the shipped definitions as text) into ../backoffice/dist/, which the
// server embeds. The output is reproducible: pinned esbuild, no timestamps, no source maps;
// .ci/check-designer-bundle rebuilds it and compares bytes.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes('--outdir');
const outdir = check ? process.argv[process.argv.indexOf('--outdir') + 1] : join(here, '../backoffice/dist');

await build({
  entryPoints: { designer: join(here, 'src/main.js') },
  bundle: true,
  format: 'esm',
  minify: true,
  legalComments: 'eof',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir,
  // The icon font's IE fallbacks (.eot, .svg) are left out: the style sheet embeds the woff.
  loader: { '.bpmn': 'text', '.json': 'json', '.eot': 'empty', '.svg': 'empty' },
  logLevel: 'warning',
  charset: 'utf8',
});
