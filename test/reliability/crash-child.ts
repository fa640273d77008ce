/**
 * Runs one connect or refresh with the real core, store (keychain or file store) and emulator, and
 * kills itself with SIGKILL at the step named by CRASH_STEP — the way a power
 * cut or `kill -9` would. Bundled and started by crash-consistency.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createHttpClient, type HttpClient } from '../../electron/core/http/client';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { TokentrayCore } from '../../electron/core/service';
import { FileSecretStore } from '../../electron/core/store/file-store';
import { readKeyFile } from '../../electron/core/store/team-key';
import { KeytarSecretStore } from '../../electron/core/vault/keytar-store';
import type { SecretStore } from '../../electron/core/vault/secret-store';

const step = process.env['CRASH_STEP'] ?? 'none';
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

/** The store the product would use here: the keychain, or the encrypted file store (CRASH_STORE=file). */
function productStore(): SecretStore {
  if (process.env['CRASH_STORE'] !== 'file') return new KeytarSecretStore(process.env['TOKENTRAY_KEYCHAIN_SERVICE']!);
  const keyFile = process.env['CRASH_KEY_FILE']!;
  return new FileSecretStore(process.env['TOKENTRAY_HOME']!, readKeyFile(keyFile), () => keyFile);
}

const inStore = productStore();
const store: SecretStore = {
  get: (k) => inStore.get(k),
  delete: (k) => inStore.delete(k),
  keys: () => inStore.keys(),
  set: async (k, v) => {
    if (step === 'during-secret-write' && k.startsWith('account:')) {
      // The file store's write dies before its rename: a torn temp file (ciphertext-like, never the
      // tokens) is left beside the item, which still holds the previous version.
      const dir = join(process.env['TOKENTRAY_HOME']!, 'secrets');
      await fs.writeFile(
        join(dir, `.${process.pid}.crash.tmp`),
        `{"version":2,"nonce":"${randomBytes(9).toString('base64')}`,
      );
      die();
    }
    await inStore.set(k, v);
    if (step === 'after-secret-write' && k.startsWith('account:')) die();
  },
};

const inner = createHttpClient();
const http: HttpClient = {
  api: (req) => inner.api(req),
  send: async (req) => {
    const tokenCall = req.url.includes('/oauth2/access_token');
    if (tokenCall && step === 'before-token-call') die();
    const res = await inner.send(req);
    if (tokenCall && step === 'after-token-response') die();
    return res;
  },
};

async function main(): Promise<void> {
  const home = process.env['TOKENTRAY_HOME']!;
  const core = new TokentrayCore({
    stateDir: home,
    providers: BUILTIN_PROVIDERS,
    store,
    http,
    clock: { now: () => Date.now() },
    demoBaseUrl: async () => Promise.reject(new Error('no demo here')),
  });
  if (step === 'during-metadata-write') {
    core.metadata.writeAccount = async (meta) => {
      // Half of the new file reaches the disk, then the process dies before the rename.
      const text = JSON.stringify(meta);
      await fs.writeFile(join(core.metadata.accountsDir, `.${process.pid}.crash.tmp`), text.slice(0, text.length / 2));
      die();
    };
  }
  if (process.env['CRASH_FLOW'] === 'connect') {
    await core.completeConnectWithCode('amocrm', process.env['CRASH_CODE']!, { host: 'example.amocrm.ru' });
  } else {
    await core.refresh(process.env['CRASH_ACCOUNT']!);
  }
  await core.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : 'failed');
    process.exit(1);
  },
);
