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
  constructor(private readonly dir: string) {}

  private path(accountId: string): string {
    return join(this.dir, `tasks-${assertSafeId(accountId)}.json`);
  }

  async read(accountId: string): Promise<{ fetchedAt: number; tasks: Task[] } | null> {
    const raw = await readJsonFile(this.path(accountId)).catch(() => null);
    if (raw === null || raw === CORRUPT) return null;
    const parsed = cacheSchema.safeParse(raw);
    return parsed.success ? { fetchedAt: parsed.data.fetchedAt, tasks: parsed.data.tasks } : null;
  }

  async write(accountId: string, tasks: Task[], fetchedAt: number): Promise<void> {
    await writeFileAtomic(this.path(accountId), JSON.stringify({ version: 1, accountId, fetchedAt, tasks }));
  }

  async delete(accountId: string): Promise<void> {
    await fs.rm(this.path(accountId), { force: true });
  }
}
