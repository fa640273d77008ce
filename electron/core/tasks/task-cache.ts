import { join } from 'node:path';
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { taskSchema, type Task } from '../../shared/models';
import { CORRUPT, readJsonFile, writeFileAtomic } from '../vault/atomic-file';
import { assertSafeId } from '../vault/metadata';

const cacheSchema = z.object({
  version: z.literal(1),
  accountId: z.string(),
  fetchedAt: z.number(),
  tasks: z.array(taskSchema),
});

/** The last good task list per account, for offline use. Tasks hold no secrets, so a plain file is fine. */
export class TaskCache {
  /**
   * The list this process last read or wrote per account, with the file's identity then.
   * Reading and validating 10,000 cached tasks costs ~100 ms; the tasks view asks for the
   * cache every time it opens, right after this process wrote it. Another process (the CLI)
   * writing the file changes its mtime or size, which sends the next read to disk again.
   */
  private readonly recent = new Map<string, { stamp: string; value: { fetchedAt: number; tasks: Task[] } }>();

  constructor(private readonly dir: string) {}

  private path(accountId: string): string {
    return join(this.dir, `tasks-${assertSafeId(accountId)}.json`);
  }

  private async stamp(accountId: string): Promise<string | null> {
    const info = await fs.stat(this.path(accountId)).catch(() => null);
    return info ? `${info.mtimeMs}:${info.size}:${info.ino}` : null;
  }

  /** Whether a list was ever saved for the account, without reading it. */
  async has(accountId: string): Promise<boolean> {
    return (await this.stamp(accountId)) !== null;
  }

  async read(accountId: string): Promise<{ fetchedAt: number; tasks: Task[] } | null> {
    const stamp = await this.stamp(accountId);
    if (stamp === null) return null;
    const remembered = this.recent.get(accountId);
    if (remembered?.stamp === stamp) return remembered.value;
    const raw = await readJsonFile(this.path(accountId)).catch(() => null);
    if (raw === null || raw === CORRUPT) return null;
    const parsed = cacheSchema.safeParse(raw);
    if (!parsed.success) return null;
    const value = { fetchedAt: parsed.data.fetchedAt, tasks: parsed.data.tasks };
    this.recent.set(accountId, { stamp, value });
    return value;
  }

  async write(accountId: string, tasks: Task[], fetchedAt: number): Promise<void> {
    await writeFileAtomic(this.path(accountId), JSON.stringify({ version: 1, accountId, fetchedAt, tasks }));
    const stamp = await this.stamp(accountId);
    if (stamp === null) this.recent.delete(accountId);
    else this.recent.set(accountId, { stamp, value: { fetchedAt, tasks } });
  }

  async delete(accountId: string): Promise<void> {
    this.recent.delete(accountId);
    await fs.rm(this.path(accountId), { force: true });
  }
}
