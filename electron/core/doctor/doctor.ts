import { canRefresh, toSummary } from '../accounts/account-status';
import { systemClock, type Clock } from '../clock';
import { ProviderRegistry } from '../providers/registry';
import type { ProviderDefinition } from '../providers/types';
import { BUILTIN_PROVIDERS } from '../providers/builtin';
import { TOKENTRAY_VERSION } from '../version';
import { MetadataStore } from '../vault/metadata';
import type { SecretStore } from '../vault/secret-store';
import { Vault } from '../vault/vault';
import type { DoctorProblem, DoctorReport } from './doctor-report';
import type { KeychainProbe } from './keychain-probe';
import { storeLockPath, userLockRoot } from '../refresh/lock-dir';
import { keychainLockScope } from '../vault/keytar-store';
import { checkDirectory, checkStateDirectories } from './state-dirs';
import { checkStore, refusingKeychain } from './store-check';

export interface DoctorOptions {
  stateDir: string;
  keychainService: string;
  /** Asks the OS keychain, in bounded time (the CLI asks from a child process it can kill). */
  probeKeychain(): Promise<KeychainProbe>;
  /** This machine's keychain, used only when the probe found it answering (the shared store's team key). */
  keychain: SecretStore;
  providers?: readonly ProviderDefinition[];
  clock?: Clock;
}

/** The exit code of the most serious problem: the store first (5, 4), then accounts to reconnect (3), then the rest (1). */
export function doctorExitCode(problems: DoctorProblem[]): number {
  for (const code of [5, 4, 3, 1] as const) if (problems.some((p) => p.exitCode === code)) return code;
  return 0;
}

/** A registry that lists providers and never reads a secret (its vault refuses). */
function listingRegistry(metadata: MetadataStore, providers: readonly ProviderDefinition[]): ProviderRegistry {
  const none = (): Promise<never> => Promise.reject(new Error('doctor reads no secret'));
  return new ProviderRegistry({
    builtins: providers,
    metadata,
    vault: new Vault({ get: none, set: none, delete: none, keys: none }),
    demoBaseUrl: none,
    demoEnabled: async () => {
      const { promises: fs } = await import('node:fs');
      const { join } = await import('node:path');
      return fs.access(join(metadata.stateDir, 'demo-removed')).then(
        () => false,
        () => true,
      );
    },
  });
}

/**
 * `tokentray doctor`: everything Tokentray depends on here, read without changing anything and
 * without printing a secret. Each check is bounded in time (the keychain probe, PostgreSQL's
 * 5-second connect), so a server without D-Bus or a database that is down answers at once.
 */
export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const clock = o.clock ?? systemClock;
  const problems: DoctorProblem[] = [];
  const probe = await o.probeKeychain();
  const keychain = probe.state === 'ok' ? o.keychain : refusingKeychain(probe);
  const store = await checkStore(o.stateDir, probe, keychain);
  if (store.failure !== null)
    problems.push({
      exitCode: store.failure,
      where: 'store',
      message: `The ${store.report.kind === 'local' ? 'keychain' : store.report.kind === 'file' ? 'file store' : 'shared store'} in use does not answer: ${store.report.detail ?? 'no detail'}`,
    });
  const keychainNeeded = store.report.kind === 'local' || store.report.key?.from === 'keychain';

  const directories = await checkStateDirectories(o.stateDir);
  // The keychain's account locks are not under the state directory (refresh/lock-dir.ts): every
  // process of this user on one keychain service shares them, whatever its TOKENTRAY_HOME.
  if (store.report.kind === 'local') {
    directories.push(
      await checkDirectory('keychain locks', userLockRoot()),
      await checkDirectory('keychain locks (this service)', storeLockPath(keychainLockScope(o.keychainService))),
    );
  }
  for (const d of directories)
    if (d.problem !== null) problems.push({ exitCode: 1, where: d.path, message: d.problem });

  const metadata = new MetadataStore(o.stateDir);
  const registry = listingRegistry(metadata, o.providers ?? BUILTIN_PROVIDERS);
  const names = store.names === null ? null : new Set(store.names);
  const providers: DoctorReport['providers'] = [];
  const configured = new Set<string>();
  for (const p of await registry.all()) {
    const config = p.kind === 'demo' ? null : await metadata.readProvider(p.id).catch(() => null);
    const isSet = p.kind === 'demo' || config !== null;
    if (isSet) configured.add(p.id);
    let problem: string | null = null;
    if (config?.hasClientSecret && names !== null && !names.has(`client-secret:${p.id}`))
      problem = `The client secret for ${p.name} is not in the store in use; set it again with \`tokentray provider set ${p.id} --client-id ${config.clientId} --client-secret-stdin\`.`;
    if (problem !== null) problems.push({ exitCode: 1, where: `provider ${p.id}`, message: problem });
    providers.push({
      id: p.id,
      name: p.name,
      kind: p.kind,
      configured: isSet,
      clientId: config?.clientId ?? null,
      hasClientSecret: config?.hasClientSecret ?? false,
      endpoints:
        config === null
          ? null
          : {
              authorizeUrl: config.authorizeUrl ?? p.defaults.authorizeUrl,
              tokenUrl: config.tokenUrl ?? p.defaults.tokenUrl,
              apiUrl: config.apiUrl ?? p.defaults.apiUrl,
              revokeUrl: p.defaults.revokeUrl,
              issuer: p.defaults.issuer ?? null,
            },
      redirectUri: p.kind === 'demo' ? null : (config?.redirectUri ?? p.defaultRedirectUri),
      problem,
    });
  }

  const accounts: DoctorReport['accounts'] = [];
  const now = clock.now();
  for (const id of await metadata.listAccountIds()) {
    const meta = await metadata.readAccount(id).catch(() => 'corrupt' as const);
    if (meta === null) continue;
    const secretStored = names === null ? null : names.has(`account:${id}`);
    if (meta === 'corrupt') {
      const message = `The metadata file of ${id} is damaged; \`tokentray accounts\` rebuilds it from the store.`;
      problems.push({ exitCode: 1, where: `account ${id}`, message });
      accounts.push({
        id,
        label: id,
        provider: 'unknown',
        status: 'error',
        statusDetail: message,
        expiresAt: null,
        hasRefreshToken: false,
        secretStored,
        refreshable: false,
        refreshProblem: message,
      });
      continue;
    }
    let provider: ProviderDefinition | null = null;
    try {
      provider = await registry.get(meta.provider);
    } catch {
      provider = null;
    }
    const summary = provider === null ? null : toSummary(meta, provider, now);
    const status = summary?.status ?? 'error';
    const statusDetail =
      summary === null
        ? `The provider "${meta.provider}" is no longer set up; add it again or disconnect this account.`
        : summary.statusDetail;
    const wantsRefresh = provider !== null && canRefresh(meta, provider);
    // Why a refresh could not happen now, in the order a user would fix them; with the exit code it earns.
    let blocked: { message: string; exitCode: 1 | 3 | null } | null = null;
    if (status === 'reconnect') blocked = { message: statusDetail ?? 'Reconnect this account.', exitCode: 3 };
    else if (status === 'error') blocked = { message: statusDetail ?? 'This account is in error.', exitCode: 1 };
    else if (provider !== null && !configured.has(provider.id))
      blocked = {
        message: `${provider.name} is not set up on this machine; run \`tokentray provider set ${provider.id} …\` (or \`store use\` the shared store that has it).`,
        exitCode: 1,
      };
    else if (secretStored === false)
      blocked = {
        message:
          'Its tokens are not in the store in use; reconnect it, or `tokentray store use` the store that holds them.',
        exitCode: 3,
      };
    else if (store.failure !== null) blocked = { message: 'The store in use does not answer (above).', exitCode: null };
    else if (!wantsRefresh && status === 'expired')
      blocked = { message: statusDetail ?? 'The token has expired; reconnect this account.', exitCode: 3 };
    if (blocked?.exitCode)
      problems.push({ exitCode: blocked.exitCode, where: `account ${meta.label}`, message: blocked.message });
    accounts.push({
      id,
      label: meta.label,
      provider: meta.provider,
      status,
      statusDetail,
      expiresAt: summary?.expiresAt ?? null,
      hasRefreshToken: meta.hasRefreshToken,
      secretStored,
      refreshable: wantsRefresh && blocked === null,
      refreshProblem: blocked?.message ?? null,
    });
  }

  const exitCode = doctorExitCode(problems);
  return {
    ok: problems.length === 0,
    exitCode,
    versions: {
      tokentray: TOKENTRAY_VERSION,
      node: process.versions.node,
      electron: process.versions['electron'] ?? null,
    },
    store: store.report,
    keychain: { service: o.keychainService, state: probe.state, needed: keychainNeeded, detail: probe.detail },
    directories,
    providers,
    accounts,
    problems,
  };
}
