// What the sync's property test and bench need of a provider's emulator: an account two cores can
// reach (one syncing incrementally, one walking it whole) and the changes a user makes there.
import type { Task } from '../../electron/shared/models';
import type { TestCore } from './test-core';

export type Mutation =
  { kind: 'create' } | { kind: 'update' | 'complete' | 'reopen' | 'delete' | 'move'; pick: number };

export interface SyncTarget {
  name: string;
  /** The core that keeps the base and syncs incrementally, and its account. */
  synced: { t: TestCore; accountId: string };
  /** A core of its own (its own state folder) on the same login: its full walk is the reference. */
  reference: { t: TestCore; accountId: string };
  /** The provider's task ids now, to pick what a mutation changes. */
  ids(): string[];
  /** Applies one change at the emulator; returns the id it touched (the new one for create). */
  apply(mutation: Mutation): string | null;
  /** API requests the emulator has answered so far. */
  requests(): number;
  close(): Promise<void>;
}

/** A task as the user sees it, without which core read it (the two cores name the account differently). */
export function comparable(task: Task): Omit<Task, 'accountId'> {
  const { accountId: _ignored, ...rest } = task;
  return rest;
}

export function byId<T extends { id: string }>(tasks: readonly T[]): T[] {
  return [...tasks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
