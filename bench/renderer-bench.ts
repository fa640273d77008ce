import type { Figure } from './bench';

/** Filled in once the renderer and bridge land: first paint 10,000 vs 100 tasks, DOM rows, longest frame. */
export async function benchRenderer(): Promise<Figure[]> {
  return [];
}
