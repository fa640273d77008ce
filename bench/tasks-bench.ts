import type { Figure } from './bench';

/** Filled in once the ClickUp emulator lands: 10,000 tasks, time relative to raw page fetches, peak RSS. */
export async function benchTasksFetch(): Promise<Figure[]> {
  return [];
}
