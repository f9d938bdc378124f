/**
 * Vitest global setup: the packaged suites run what `npm run package` builds, so package
 * once before any test file starts (when the artifacts are missing or older than the sources)
 * rather than have the first few packaged suites wait on each other's lock.
 */
import path from 'node:path';
import { ensurePackaged } from '../../local/packaged/build.ts';

export default async function packageOnce(): Promise<void> {
  await ensurePackaged(path.resolve(import.meta.dirname, '../..'), (line) => console.log(line));
}
