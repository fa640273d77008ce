import type { ProviderDefinition, AccountContext } from './providers/types';
import type { TokentrayCore } from './service';

/**
 * Everything a front door needs to call an account's API itself (`tokentray api`,
 * `tokentray exec --header-file`, `tokentray token --header`): a valid token in the
 * provider's own Authorization scheme and the account's API base. Only the CLI
 * and Electron main may call this; nothing it returns may reach the renderer.
 */
export interface AccountAccess {
  accountId: string;
  label: string;
  provider: ProviderDefinition;
  ctx: AccountContext;
  /** The Authorization header's value, e.g. `Bearer …` (ClickUp personal tokens: the token alone). */
  authorization: string;
  /** The account's API root without a trailing slash (amoCRM: its own host; Basecamp: its first account's href). */
  apiBase: string;
}

export async function accountAccess(
  core: TokentrayCore,
  ref: string,
  options: { minValidSeconds?: number } = {},
): Promise<AccountAccess> {
  const accountId = await core.repo.resolveId(ref);
  // Through the service, so the refresher's single flight and cross-process lock apply.
  const token = await core.getAccessToken(accountId, { minValidSeconds: options.minValidSeconds ?? 0 });
  const { meta, secret } = await core.repo.load(accountId);
  const provider = await core.registry.get(meta.provider);
  const base = await core.registry.context(provider, { requireClient: false });
  const tokens = { ...secret.tokens, accessToken: token };
  const ctx: AccountContext = { ...base, accountId, tokens, workspaces: meta.workspaces, extra: meta.extra };
  return {
    accountId,
    label: meta.label,
    provider,
    ctx,
    authorization: provider.authorizationHeader(tokens),
    apiBase: provider.apiBase(ctx, tokens).replace(/\/+$/, ''),
  };
}
