// Registers one ipcMain handler per contract channel. Validation, dispatch and
// response shaping are the router's (shared with the development bridge); this
// file adds what only Electron knows: who is asking.
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { IpcRouter } from '../core/ipc-router';
import { IPC_CHANNELS, ipcChannelName, ipcEventName } from '../shared/ipc-contract';
import type { Result } from '../shared/models';

export interface IpcSenderCheck {
  isTrustedFrame(
    contents: IpcMainInvokeEvent['sender'],
    frame: { processId: number; routingId: number; url: string } | null,
  ): boolean;
  send(channel: string, payload: unknown): void;
}

const UNTRUSTED: Result<never> = {
  ok: false,
  error: { code: 'IPC_INVALID', message: 'Only the Tokentray window may make this request.' },
};

export function registerIpc(router: IpcRouter, window: IpcSenderCheck): () => void {
  for (const channel of IPC_CHANNELS) {
    ipcMain.handle(ipcChannelName(channel), async (event, payload: unknown) => {
      // senderFrame is null when the frame navigated away or was destroyed mid-call: not trusted either.
      if (!window.isTrustedFrame(event.sender, event.senderFrame)) return UNTRUSTED;
      return router.handle(channel, payload);
    });
  }
  const unsubscribe = router.subscribe((event, payload) => window.send(ipcEventName(event), payload));
  return () => {
    unsubscribe();
    for (const channel of IPC_CHANNELS) ipcMain.removeHandler(ipcChannelName(channel));
  };
}
