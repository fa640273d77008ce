// Correctness before speed (issue 22): random sequences of create, update, complete, reopen, delete
// and move at the emulators; after each sync the incremental list equals a full walk's, field by
// field. The feeds name no deletion, so until the daily walk a task deleted (or moved out of reach)
// since the last full walk may linger, and only such a task: once the walk is due, the lists are equal.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_WALK_EVERY_MS } from '../../electron/core/tasks/task-sync';
import { byId, comparable, type Mutation, type SyncTarget } from '../support/sync-targets';
import { targets, type Clock } from '../support/sync-target-emulators';

const clock: Clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'create' }),
  ...(['update', 'complete', 'reopen', 'delete', 'move'] as const).map((kind) =>
    fc.nat().map((pick): Mutation => ({ kind, pick })),
  ),
);

for (const make of targets) {
  describe(`incremental sync equals a full walk: ${make.name}`, () => {
    let target: SyncTarget;
    beforeAll(async () => {
      target = await make.start(clock);
    });
    afterAll(async () => {
      await target.close();
    });

    it('after every sync, field by field, for random edits', { timeout: 240_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(mutation, { maxLength: 6 }), { minLength: 1, maxLength: 5 }),
          async (rounds) => {
            const { synced, reference } = target;
            // Each run starts from a walked base.
            const start = await synced.t.core.tasks(synced.accountId, { full: true });
            expect(start.syncMode).toBe('full');
            const goneSinceWalk = new Set<string>();
            for (const round of rounds) {
              for (const m of round) {
                const before = new Set(target.ids());
                const touched = target.apply(m);
                if (touched !== null && (m.kind === 'delete' || m.kind === 'move')) goneSinceWalk.add(touched);
                if (touched !== null && m.kind === 'create') goneSinceWalk.delete(touched);
                // A deleted ClickUp task takes its subtasks with it.
                const after = new Set(target.ids());
                for (const id of before) if (!after.has(id)) goneSinceWalk.add(id);
              }
              const incremental = await synced.t.core.tasks(synced.accountId);
              expect(incremental.syncMode).toBe('incremental');
              const full = await reference.t.core.tasks(reference.accountId, { full: true });
              const present = new Set(full.tasks.map((t) => t.id));
              // Only what went away since the walk may linger; everything else is the same task.
              const lingering = incremental.tasks.filter((t) => !present.has(t.id)).map((t) => t.id);
              for (const id of lingering) expect(goneSinceWalk, `task ${id} should not be listed`).toContain(id);
              expect(byId(incremental.tasks.filter((t) => present.has(t.id))).map(comparable)).toEqual(
                byId(full.tasks).map(comparable),
              );
            }
            // The daily walk is due: now the lists are equal, deletions and moves included.
            clock.offsetMs += FULL_WALK_EVERY_MS;
            const walked = await synced.t.core.tasks(synced.accountId);
            expect(walked.syncMode).toBe('full');
            const full = await reference.t.core.tasks(reference.accountId, { full: true });
            expect(byId(walked.tasks).map(comparable)).toEqual(byId(full.tasks).map(comparable));
          },
        ),
        { numRuns: 8 },
      );
    });
  });
}
