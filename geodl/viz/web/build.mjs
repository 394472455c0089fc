// Builds ../static/viewer.js, the one file geodl.viz.to_html inlines into every
// HTML page: src/viewer.js + three.js, bundled and minified by esbuild.
//
//   cd geodl/viz/web && npm ci && npm run build      (or: make viewer-js)
//
// Versions are pinned in package.json and package-lock.json, and esbuild's
// output depends only on its inputs, so the same sources give the same bytes.
// The banner records the versions and a SHA-256 of the sources
// (src/viewer.js, package-lock.json); tests/viz/test_html.py checks that the
// shipped file was built from the sources in the repository.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url);
const read = (p) => readFileSync(new URL(p, here));
const sources = ['src/viewer.js', 'package-lock.json'];
const hash = createHash('sha256');
for (const s of sources) hash.update(read(s));
const three = JSON.parse(read('node_modules/three/package.json')).version;
const esbuildVersion = JSON.parse(read('node_modules/esbuild/package.json')).version;
// three.js's MIT licence asks for its notice in every copy: the banner carries it whole.
const licence = read('node_modules/three/LICENSE').toString().trim().replaceAll('*/', '* /');
const banner = `/*! geodl viewer | three.js ${three} | bundled by esbuild ${esbuildVersion} `
  + `| sources sha256 ${hash.digest('hex')} */\n/*! three.js licence:\n${licence}\n*/`;

const result = await build({
  entryPoints: [new URL('src/viewer.js', here).pathname],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'none',
  write: false,
  banner: { js: banner },
});
const out = new URL('../static/viewer.js', here);
const code = result.outputFiles[0].text;
if (code.includes('</script')) throw new Error('the bundle contains "</script": it could not be inlined');
writeFileSync(out, code);
console.log(`wrote ${out.pathname} (${code.length} bytes)`);
