import { clipboard } from 'electron';

export const CLIPBOARD_CLEAR_MS = 60_000;

/**
 * "Copy token": main writes the clipboard (the token never reaches the page) and
 * empties it after a minute, unless the user has copied something else since.
 * On quit the clipboard is cleared right away if it still holds our token.
 */
export class TokenClipboard {
  private pending: { text: string; timer: ReturnType<typeof setTimeout> } | null = null;

  async copy(token: string, clearAfterMs = CLIPBOARD_CLEAR_MS): Promise<void> {
    this.cancel();
    await clipboard.writeText(token);
    const timer = setTimeout(() => void this.clearIfOurs(), clearAfterMs);
    this.pending = { text: token, timer };
  }

  async clearIfOurs(): Promise<void> {
    const pending = this.pending;
    this.cancel();
    if (pending && (await clipboard.readText()) === pending.text) clipboard.clear();
  }

  private cancel(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = null;
  }
}
