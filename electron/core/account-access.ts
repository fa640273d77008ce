import { pinnedAccountContext } from './accounts/pinned-context';
import type { AccountContext, ApiPacing, ProviderDefinition } from './providers/types';
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
  /** The provider's API root for this account, without a trailing slash (amoCRM: the account's own host). */
  apiBase: string;
  /**
   * Where this account's API lives, first the default: the per-workspace roots a provider
   * recorded as `href:<workspace id>` (Basecamp's account hrefs), then `apiBase`.
   */
  apiRoots: Array<{ workspace: string | null; url: string }>;
  /** The rate-limit budget the provider's own calls for this account use. */
  pacing: ApiPacing;
  requestsPerSecond: number;
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
  const tokens = { ...secret.tokens, accessToken: token };
  // The API base the token goes to must be the one the account was connected with.
  const { ctx } = await pinnedAccountContext(
    { registry: core.registry, repo: core.repo },
    provider,
    { meta, secret: { ...secret, tokens } },
    { requireClient: false },
  );
  const apiBase = provider.apiBase(ctx, tokens).replace(/\/+$/, '');
  const roots: AccountAccess['apiRoots'] = [];
  for (const w of meta.workspaces) {
    const href = meta.extra[`href:${w.id}`];
    if (href) roots.push({ workspace: w.id, url: href.replace(/\/+$/, '') });
  }
  roots.push({ workspace: null, url: apiBase });
  return {
    accountId,
    label: meta.label,
    provider,
    ctx,
    authorization: provider.authorizationHeader(tokens),
    apiBase,
    apiRoots: roots,
    pacing: provider.apiPacing?.(ctx) ?? { rateKey: `${provider.id}:${accountId}` },
    requestsPerSecond: provider.requestsPerSecond,
  };
}
