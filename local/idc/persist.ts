/**
 * Keeps the emulator's state in a JSON file across local-cloud restarts:
 * read it at start (`snapshot` option), write it after changes (`onChange`).
 * Writes go to a temporary file renamed over the old one, so a crash mid-write
 * never leaves a half-written state file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IdcSnapshot } from './state.ts';

/** The saved state, or undefined when there is none yet. A corrupt file is an error naming the file. */
export function readSnapshotFile(file: string): IdcSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const parsed = JSON.parse(text) as IdcSnapshot;
    if (parsed.version !== 1 || !Array.isArray(parsed.assignments) || !Array.isArray(parsed.memberships) || !Array.isArray(parsed.operations)) {
      throw new Error('not an Identity Center snapshot (version 1)');
    }
    return parsed;
  } catch (e) {
    throw new Error(`Identity Center state file ${file} is unreadable: ${(e as Error).message}. Delete it (or start with --fresh) to start from the fixture.`);
  }
}

export function writeSnapshotFile(file: string, snapshot: IdcSnapshot): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snapshot, null, 1));
  renameSync(tmp, file);
}

/**
 * An onChange handler that writes the snapshot at most once per `delayMs`
 * (bursts of changes cost one write); `flush()` writes pending state at once (shutdown).
 */
export function snapshotWriter(file: string, snapshot: () => IdcSnapshot, delayMs = 200): { onChange(): void; flush(): void } {
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writeSnapshotFile(file, snapshot());
  };
  return {
    onChange() {
      if (timer) return;
      timer = setTimeout(flush, delayMs);
      timer.unref();
    },
    flush,
  };
}
