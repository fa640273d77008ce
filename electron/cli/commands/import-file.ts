import { randomBytes } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The token file `tokentray import` reads, and its removal (`--remove-file`).
 *
 * Why one handle: reopening the path by name to shred it follows a symbolic link and zeroes
 * whatever it points to, and shreds whatever the file holds by then: if the old cron job rotated
 * the tokens meanwhile, the only copy of the new refresh token is destroyed. So the file is opened
 * once, without following a link (O_NOFOLLOW; an lstat where the platform has no such flag), the
 * import is read from that handle, and the removal overwrites that same handle only while the
 * name still leads to it and it still holds exactly the bytes that were imported.
 */

/** Why a file was not removed: one sentence each, saying what to do. */
const KEPT = {
  symlink: (p: string) =>
    `${p} is a symbolic link, so it was kept and the file it points to was not touched; delete them yourself once nothing needs them.`,
  notRegular: (p: string) => `${p} is not a regular file, so it was kept.`,
  notWritable: (p: string) =>
    `${p} cannot be written by you, so it was not overwritten and was kept; delete it yourself.`,
  changed: (p: string) =>
    `${p} changed after it was read (another program, such as the old cron job, wrote to it), so it was kept with what it holds now; stop that program and import the file again.`,
  replaced: (p: string) =>
    `${p} was moved or replaced after it was read, so it was kept; stop the program that writes it and import the file again.`,
  failed: (p: string, error: unknown) =>
    `${p} could not be overwritten (${errorCode(error)}), so it was kept; delete it yourself.`,
  undeleted: (p: string, error: unknown) =>
    `${p} was overwritten with zeros but could not be deleted (${errorCode(error)}); delete it yourself.`,
  putAside: (p: string, aside: string) =>
    `${p} was replaced while it was being removed; the new file was kept as ${aside}: move it back, stop the program that writes it and import it again.`,
} as const;

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? 'unknown error';
}

/** On Windows there is no O_NOFOLLOW: the lstat before the open (and the dev/ino match after it) stands in. */
const NOFOLLOW: number = (constants as { O_NOFOLLOW?: number }).O_NOFOLLOW ?? 0;

export interface ImportFileOptions {
  /** Opened for writing too, for `--remove-file`. */
  forRemoval: boolean;
}

export class ImportFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly bytes: Buffer,
    /** The handle's file when it was read. */
    private readonly opened: Stats,
    /** Known at open: why this file may not be removed (null: it may, if nothing changes). */
    private readonly keptAtOpen: string | null,
  ) {}

  /** What was read, as text. */
  get text(): string {
    return this.bytes.toString('utf8');
  }

  /** When the file was last written (the tokens' issue time for files without one). */
  get writtenAt(): number {
    return this.opened.mtimeMs;
  }

  /** Opens and reads `path` through one handle; errors are the file system's (the caller words them). */
  static async open(path: string, options: ImportFileOptions): Promise<ImportFile> {
    let handle: FileHandle;
    let kept: string | null = null;
    if (options.forRemoval) {
      ({ handle, kept } = await openForRemoval(path));
    } else {
      handle = await fs.open(path, 'r');
    }
    try {
      const opened = await handle.stat();
      const bytes = await handle.readFile();
      return new ImportFile(path, handle, bytes, opened, kept);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Overwrites the file with zeros (fsynced) and deletes it, if it is still the file that was
   * read and holds exactly what was imported. Null when it is gone; otherwise why it was kept.
   */
  async remove(): Promise<string | null> {
    if (this.keptAtOpen !== null) return this.keptAtOpen;
    const st = await this.handle.stat();
    if (!st.isFile()) return KEPT.notRegular(this.path);
    if (!(await this.nameLeadsHere(this.path, st))) return KEPT.replaced(this.path);
    if (!(await this.holdsWhatWasRead(st.size))) return KEPT.changed(this.path);
    try {
      const zeros = Buffer.alloc(Math.min(st.size, 1024 * 1024));
      for (let offset = 0; offset < st.size; offset += zeros.length)
        await this.handle.write(zeros, 0, Math.min(zeros.length, st.size - offset), offset);
      await this.handle.sync();
    } catch (error) {
      return KEPT.failed(this.path, error);
    }
    // Delete our file only: the name is moved aside first, and what was moved is checked, so a
    // new file renamed over the name in the meantime is given its name back, not deleted.
    const aside = join(
      dirname(this.path),
      `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tokentray-removed`,
    );
    try {
      await fs.rename(this.path, aside);
    } catch (error) {
      return KEPT.undeleted(this.path, error);
    }
    if (await this.nameLeadsHere(aside, st)) {
      await fs.unlink(aside).catch(() => undefined);
      return null;
    }
    try {
      await fs.link(aside, this.path);
      await fs.unlink(aside);
    } catch {
      return KEPT.putAside(this.path, aside);
    }
    return KEPT.replaced(this.path);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private async nameLeadsHere(name: string, st: Stats): Promise<boolean> {
    const now = await fs.lstat(name).catch(() => null);
    return now !== null && !now.isSymbolicLink() && now.dev === st.dev && now.ino === st.ino;
  }

  /** The whole file, read again from the handle, is byte for byte what was imported. */
  private async holdsWhatWasRead(size: number): Promise<boolean> {
    if (size !== this.bytes.length) return false;
    const now = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await this.handle.read(now, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size && now.equals(this.bytes);
  }
}

/**
 * Opens the file for reading and writing without following a symbolic link. A file that may not
 * be removed (a link, not a regular file, not writable) is still opened for reading: the import
 * goes ahead, and the removal then says why the file was kept.
 */
async function openForRemoval(path: string): Promise<{ handle: FileHandle; kept: string | null }> {
  const named = await fs.lstat(path);
  if (named.isSymbolicLink()) return { handle: await fs.open(path, 'r'), kept: KEPT.symlink(path) };
  // A FIFO or device is never opened for writing (a FIFO opened so would never reach its end).
  if (!named.isFile()) return { handle: await fs.open(path, 'r'), kept: KEPT.notRegular(path) };
  let handle: FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDWR | NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ELOOP (EMLINK on FreeBSD): a link was put there after the lstat.
    if (code === 'ELOOP' || code === 'EMLINK') return { handle: await fs.open(path, 'r'), kept: KEPT.symlink(path) };
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      return { handle: await fs.open(path, 'r'), kept: KEPT.notWritable(path) };
    throw error;
  }
  const st = await handle.stat();
  // Without O_NOFOLLOW the open may have followed a link swapped in after the lstat.
  if (st.dev !== named.dev || st.ino !== named.ino) return { handle, kept: KEPT.replaced(path) };
  return { handle, kept: null };
}
