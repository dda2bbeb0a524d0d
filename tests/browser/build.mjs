// Builds shared/tracker/tracker.min.js from shared/tracker/tracker.js with the pinned esbuild.
// `npm run build` writes the file; the size test calls buildTracker() and compares.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

export const trackerSource = fileURLToPath(new URL('../../shared/tracker/tracker.js', import.meta.url));
export const trackerMin = fileURLToPath(new URL('../../shared/tracker/tracker.min.js', import.meta.url));

export async function buildTracker() {
  const source = await readFile(trackerSource, 'utf8');
  const { code } = await transform(source, {
    loader: 'js',
    minify: true,
    target: 'es2022',
    legalComments: 'none',
  });
  return code;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const code = await buildTracker();
  await writeFile(trackerMin, code);
  console.log(`wrote ${trackerMin} (${Buffer.byteLength(code)} bytes)`);
}
