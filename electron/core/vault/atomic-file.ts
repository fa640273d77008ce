import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Write temp, fsync, rename, fsync the folder: a reader sees the old file or
 * the new one, never half of either, even if the process dies mid-write.
 * `write` fills the temporary file; if it throws, the file is removed and the
 * old one stays.
 */
export async function writeAtomic(path: string, write: (handle: fs.FileHandle) => Promise<void>): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await write(handle);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await syncDir(dir);
}

export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await writeAtomic(path, (handle) => handle.writeFile(content, 'utf8'));
}

export async function syncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable on Linux; Windows cannot open folders this way.
  if (process.platform === 'win32') return;
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: some filesystems refuse fsync on directories.
  }
}

/** Reads and parses a JSON file; null when it is missing, `corrupt` when it cannot be parsed. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return CORRUPT;
  }
}

export const CORRUPT = Symbol('corrupt');
