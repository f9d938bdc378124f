/** The built portal as files in a folder (the deployment package's `portal-dist/`). */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PortalBuild } from '../ports/portal.ts';

export class DirectoryPortalBuild implements PortalBuild {
  constructor(readonly dir: string) {}

  async files(): Promise<string[]> {
    try {
      const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
      return entries.filter((e) => e.isFile()).map((e) => path.relative(this.dir, path.join(e.parentPath, e.name)).split(path.sep).join('/')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  read(file: string): Promise<Uint8Array> {
    return readFile(path.join(this.dir, ...file.split('/')));
  }
}
