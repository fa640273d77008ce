import { TokentrayError } from '../errors';
import type { ProviderRegistry } from '../providers/registry';
import type { AccountContext, ProviderDefinition } from '../providers/types';
import type { AccountMeta } from '../vault/metadata';
import type { AccountRepository, LoadedAccount } from './account-repository';
import { endpointPinOf, pinDifferences, type EndpointPin } from './endpoint-pin';

export interface PinDeps {
  registry: ProviderRegistry;
  repo: AccountRepository;
  onChange?: () => void;
}

/**
 * The one way to get the context an account's tokens are sent with (refresh, API calls, task
 * fetches, revocation): the provider's configuration in force, checked against the account's
 * pin first. When they differ nothing is sent; the account is marked for reconnection.
 * Returns the pin in force too, for a caller that writes the account's metadata afterwards.
 */
export async function pinnedAccountContext(
  deps: PinDeps,
  provider: ProviderDefinition,
  account: LoadedAccount,
  options: { requireClient: boolean } = { requireClient: true },
): Promise<{ ctx: AccountContext; pin: EndpointPin | null }> {
  const { meta, secret } = account;
  const ctx = await deps.registry.context(provider, options);
  const current = endpointPinOf(provider, ctx);
  const full: AccountContext = {
    ...ctx,
    accountId: meta.id,
    tokens: secret.tokens,
    workspaces: meta.workspaces,
    extra: meta.extra,
  };
  if (current === null) return { ctx: full, pin: null };
  if (meta.pin === undefined || meta.pin === null) {
    if (!mayAdopt(provider, ctx.config.updatedAt, meta)) {
      throw await refuse(
        deps,
        meta,
        `the settings of ${provider.name} were changed after "${meta.label}" was connected, and this account was connected before Tokentray recorded where its tokens may go`,
      );
    }
    await adopt(deps, meta.id, current);
    return { ctx: full, pin: current };
  }
  const differences = pinDifferences(meta.pin, current);
  if (differences.length > 0) {
    throw await refuse(
      deps,
      meta,
      `the ${listed(differences)} of ${provider.name} changed since "${meta.label}" was connected`,
    );
  }
  return { ctx: full, pin: meta.pin };
}

/**
 * Accounts connected before pins existed adopt the configuration in force on first use, but only
 * when that configuration cannot have been slipped in by the window (which, before pins, could
 * replace a generic provider through addGenericProvider). A built-in provider's endpoints were
 * never settable from the window, only by `tokentray provider set`, so whatever is in force is
 * the user's choice. A generic provider's file is adopted only when it is no newer than the
 * account itself: then it is the configuration the account was connected under. A newer file
 * may be the attacker's, so that account must be connected again (once) instead.
 */
function mayAdopt(provider: ProviderDefinition, configUpdatedAt: string, meta: AccountMeta): boolean {
  if (provider.kind !== 'generic') return true;
  const updated = Date.parse(configUpdatedAt);
  return Number.isFinite(updated) && updated <= meta.connectedAt;
}

async function adopt(deps: PinDeps, accountId: string, pin: EndpointPin): Promise<void> {
  // Re-read just before writing, so a refresh another process just recorded is not written over.
  const latest = await deps.repo.readMeta(accountId);
  if (latest !== null && (latest.pin === undefined || latest.pin === null))
    await deps.repo.saveMeta({ ...latest, pin });
}

/** "a", "a and b", "a, b and c". */
function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

async function refuse(deps: PinDeps, meta: AccountMeta, why: string): Promise<TokentrayError> {
  const message = `Tokentray did not send the tokens of "${meta.label}" anywhere: ${why}. Reconnect the account (\`tokentray connect ${meta.provider}\`, or Reconnect in the app) if the new settings are right.`;
  const latest = (await deps.repo.readMeta(meta.id)) ?? meta;
  if (latest.state !== 'reconnect' || latest.stateDetail !== message) {
    await deps.repo.saveMeta({
      ...deps.repo.withHistory(latest, { outcome: 'failed', code: 'RECONNECT_REQUIRED' }),
      state: 'reconnect',
      stateDetail: message,
      lastErrorCode: 'RECONNECT_REQUIRED',
    });
    deps.onChange?.();
  }
  return new TokentrayError('RECONNECT_REQUIRED', message);
}
