import type { Clock } from '../clock';

/**
 * Spaces requests per key so a provider never sees more than its documented
 * rate, even in bursts (amoCRM blocks IPs that burst past 7/s). Each key gets
 * evenly spaced slots; `pause` pushes the next slot out after a 429.
 */
export class RateLimiter {
  private readonly nextSlot = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async take(key: string, perSecond: number): Promise<void> {
    // 15% slack per slot: a request that leaves late (a busy event loop) followed by one on time
    // must still not put perSecond + 1 arrivals into one sliding second at the provider.
    const interval = (1000 / perSecond) * 1.15;
    const now = this.clock.now();
    const slot = Math.max(now, this.nextSlot.get(key) ?? 0);
    this.nextSlot.set(key, slot + interval);
    if (slot > now) await this.sleep(slot - now);
  }

  pause(key: string, ms: number): void {
    const until = this.clock.now() + ms;
    if ((this.nextSlot.get(key) ?? 0) < until) this.nextSlot.set(key, until);
  }
}
