// The committed tracker.min.js is exactly what the pinned minifier builds from tracker.js today,
// and it stays within the size budget of the issue: 2 KiB minified and gzipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { buildTracker, trackerMin, trackerSource } from './build.mjs';

const GZIP_BUDGET = 2048;

test('the committed minified tracker is what the build produces from the source', async () => {
  const built = await buildTracker();
  const committed = await readFile(trackerMin, 'utf8');
  assert.equal(committed, built, 'tracker.min.js is stale: run `npm run build` in tests/browser');
});

test('the minified tracker gzips to at most 2048 bytes', async () => {
  const source = await readFile(trackerSource);
  const minified = await readFile(trackerMin);
  const gzipped = gzipSync(minified, { level: 9 }).length;
  console.log(`tracker.js ${source.length} B, tracker.min.js ${minified.length} B, gzip -9 ${gzipped} B`);
  assert.ok(gzipped <= GZIP_BUDGET, `tracker.min.js gzips to ${gzipped} bytes, over the ${GZIP_BUDGET}-byte budget`);
});

test('the tracker sets no cookie and uses no dependency', async () => {
  const source = await readFile(trackerSource, 'utf8');
  assert.doesNotMatch(source, /document\.cookie|\bcookie\s*=/);
  assert.doesNotMatch(source, /\brequire\(|\bimport\b/);
});
