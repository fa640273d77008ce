// Exposes verbs, not ipcRenderer: one method per contract channel plus `on`
// for the contract's pushed events. Built from the contract's channel list so
// the preload and the development bridge client have the same shape.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createTokentrayApi, ipcChannelName, ipcEventName } from '../shared/ipc-contract';

const api = createTokentrayApi({
  invoke: (channel, request) => ipcRenderer.invoke(ipcChannelName(channel), request),
  subscribe: (event, listener) => {
    // The Electron event object (and its sender) stays on this side of the bridge.
    const wrapped = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(ipcEventName(event), wrapped);
    return () => {
      ipcRenderer.removeListener(ipcEventName(event), wrapped);
    };
  },
});

contextBridge.exposeInMainWorld('tokentray', api);
