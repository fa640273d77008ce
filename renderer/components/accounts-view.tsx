import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { AccountSummary } from '../../electron/shared/models';
import { formatRelative } from '../lib/time';
import { useApp } from '../state/app-context';
import { useNow } from '../state/use-now';
import { ConfirmDialog } from './confirm-dialog';
import { Countdown } from './countdown';
import { CopyIcon, FlaskIcon, InspectIcon, KeyIcon, ListIcon, PlusIcon, RefreshIcon, TrashIcon } from './icons';
import { PageHeader } from './page-header';
import { ProviderIcon } from './provider-icon';
import { EmptyState, ErrorState, Spinner } from './states';
import { DemoBadge, StatusBadge } from './status-badge';
import './accounts-view.css';

/**
 * An icon-only action: the label is both the accessible name and the tooltip. `busy` (an action in flight)
 * uses aria-disabled, not disabled: a disabled button drops keyboard focus to the page.
 */
function IconButton({
  label,
  onClick,
  disabled,
  busy,
  danger,
  children,
}: {
  label: string;
  onClick: () => void;
  disabled?: boolean;
  busy?: boolean;
  danger?: boolean;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className={danger ? 'icon-button icon-button--danger' : 'icon-button'}
      aria-label={label}
      title={label}
      onClick={busy ? undefined : onClick}
      disabled={disabled}
      aria-disabled={busy || undefined}
    >
      {children}
    </button>
  );
}

function needsReconnect(account: AccountSummary): boolean {
  return account.status === 'reconnect' || (account.status === 'expired' && !account.canRefresh);
}

function AccountCard({ account, onDisconnect }: { account: AccountSummary; onDisconnect(a: AccountSummary): void }) {
  const { api, i18n, navigate, notify, notifyError, reloadAccounts } = useApp();
  const now = useNow(30_000);
  const [refreshing, setRefreshing] = useState(false);
  const [copying, setCopying] = useState(false);
  const reconnect = needsReconnect(account);

  const refresh = async (): Promise<void> => {
    setRefreshing(true);
    const result = await api.refresh({ accountId: account.id });
    setRefreshing(false);
    if (result.ok) notify({ tone: 'success', title: i18n.t('accounts.refreshed', { label: account.label }) });
    else notifyError(result.error);
    await reloadAccounts();
  };

  const copy = async (): Promise<void> => {
    setCopying(true);
    const result = await api.copyToken({ accountId: account.id });
    setCopying(false);
    if (result.ok)
      notify({
        tone: 'success',
        title: i18n.t('accounts.copied'),
        detail: i18n.t('accounts.copiedDetail', { seconds: result.data.clearsInSeconds }),
      });
    else notifyError(result.error);
  };

  return (
    <li className="account-card" data-testid="account-card" data-account-id={account.id} data-status={account.status}>
      <ProviderIcon provider={account.provider} />
      <div className="account-card__identity">
        <div className="account-card__title">
          <span className="account-card__label">{account.label}</span>
          {account.demo ? <DemoBadge /> : null}
        </div>
        <div className="account-card__meta">
          <span>{account.providerName}</span>
          {account.workspaces.length > 0 ? (
            <>
              <span className="dot-separator" aria-hidden="true" />
              <span className="account-card__workspaces" title={account.workspaces.map((w) => w.name).join(', ')}>
                {account.workspaces.map((w) => w.name).join(', ')}
              </span>
            </>
          ) : null}
        </div>
      </div>
      <div className="account-card__status">
        <div className="account-card__status-line">
          <StatusBadge status={account.status} />
          {account.status === 'reconnect' ? null : <Countdown expiresAt={account.expiresAt} />}
        </div>
        <span className="account-card__refreshed">
          {account.lastRefreshAt
            ? i18n.t('accounts.lastRefresh', { when: formatRelative(account.lastRefreshAt, now, i18n.locale) })
            : i18n.t('accounts.connectedAt', { when: formatRelative(account.connectedAt, now, i18n.locale) })}
        </span>
      </div>
      <div className="account-card__actions">
        {/* Keyed apart: a status change replaces the button, so a click aimed at Refresh never runs Reconnect. */}
        {reconnect ? (
          <button
            key="reconnect"
            type="button"
            className="button button--primary"
            onClick={() => navigate({ name: 'connect', provider: account.provider, reconnect: account.id })}
          >
            <RefreshIcon size={16} />
            {i18n.t('accounts.reconnect')}
          </button>
        ) : account.canRefresh ? (
          // aria-disabled while refreshing keeps keyboard focus on the button (disabled would drop it to the page).
          <button
            key="refresh"
            type="button"
            className="button"
            onClick={refreshing ? undefined : () => void refresh()}
            aria-disabled={refreshing || undefined}
          >
            {refreshing ? <Spinner /> : <RefreshIcon size={16} />}
            {i18n.t('accounts.refresh')}
          </button>
        ) : null}
        <IconButton label={i18n.t('accounts.tasks')} onClick={() => navigate({ name: 'tasks', accountId: account.id })}>
          <ListIcon />
        </IconButton>
        <IconButton
          label={i18n.t('accounts.inspect')}
          onClick={() => navigate({ name: 'inspect', accountId: account.id })}
        >
          <InspectIcon />
        </IconButton>
        <IconButton label={i18n.t('accounts.copy')} onClick={() => void copy()} disabled={reconnect} busy={copying}>
          <CopyIcon />
        </IconButton>
        <IconButton label={i18n.t('accounts.disconnect')} onClick={() => onDisconnect(account)} danger>
          <TrashIcon />
        </IconButton>
      </div>
      {account.statusDetail ? (
        <p className="account-card__detail" data-tone={account.status}>
          {account.statusDetail}
        </p>
      ) : null}
    </li>
  );
}

export function AccountsView() {
  const { api, i18n, accounts, accountsError, navigate, notify, notifyError, reloadAccounts, providers } = useApp();
  const [pending, setPending] = useState<AccountSummary | null>(null);
  const [busy, setBusy] = useState(false);
  // The dialog gives focus back to the button that opened it; after a disconnect that button is gone with its
  // card, so focus goes to the view's title instead of falling to the page.
  const refocusTitle = useRef(false);
  useEffect(() => {
    if (!refocusTitle.current || pending !== null) return;
    refocusTitle.current = false;
    document.querySelector<HTMLElement>('main .page-header__title')?.focus();
  }, [pending]);
  const demo = (providers ?? []).find((p) => p.kind === 'demo');

  const disconnect = async (): Promise<void> => {
    if (!pending) return;
    setBusy(true);
    const result = await api.disconnect({ accountId: pending.id });
    setBusy(false);
    if (result.ok) notify({ tone: 'success', title: i18n.t('accounts.disconnected', { label: pending.label }) });
    else notifyError(result.error);
    await reloadAccounts();
    refocusTitle.current = result.ok;
    setPending(null);
  };

  const count = accounts?.length ?? 0;
  const attention = (accounts ?? []).filter((a) => a.status !== 'ok').length;
  return (
    <div className="view">
      <PageHeader
        title={i18n.t('accounts.title')}
        subtitle={
          accounts && count > 0
            ? `${i18n.tn('accounts.count', count)}${attention > 0 ? ` · ${i18n.tn('accounts.attention', attention)}` : ''}`
            : i18n.t('accounts.subtitle')
        }
        actions={
          count > 0 ? (
            <button type="button" className="button button--primary" onClick={() => navigate({ name: 'connect' })}>
              <PlusIcon size={16} />
              {i18n.t('accounts.add')}
            </button>
          ) : null
        }
      />
      <div className="view__body">
        {accountsError ? <ErrorState error={accountsError} /> : null}
        {accounts === null && !accountsError ? (
          <div className="loading">
            <Spinner label={i18n.t('common.loading')} />
          </div>
        ) : null}
        {accounts !== null && count === 0 ? (
          <EmptyState
            icon={<KeyIcon size={28} />}
            title={i18n.t('accounts.emptyTitle')}
            body={i18n.t('accounts.emptyBody')}
            actions={
              <>
                <button type="button" className="button button--primary" onClick={() => navigate({ name: 'connect' })}>
                  <PlusIcon size={16} />
                  {i18n.t('accounts.add')}
                </button>
                {demo ? (
                  <button
                    type="button"
                    className="button"
                    onClick={() => navigate({ name: 'connect', provider: demo.id })}
                  >
                    <FlaskIcon size={16} />
                    {i18n.t('accounts.tryDemo')}
                  </button>
                ) : null}
              </>
            }
          />
        ) : null}
        {accounts && count > 0 ? (
          <ul className="account-list" aria-label={i18n.t('accounts.title')}>
            {accounts.map((account) => (
              <AccountCard key={account.id} account={account} onDisconnect={setPending} />
            ))}
          </ul>
        ) : null}
      </div>
      <ConfirmDialog
        open={pending !== null}
        title={i18n.t('accounts.confirmTitle', { label: pending?.label ?? '' })}
        body={i18n.t('accounts.confirmBody', { provider: pending?.providerName ?? '' })}
        confirmLabel={i18n.t('accounts.disconnect')}
        cancelLabel={i18n.t('common.cancel')}
        busy={busy}
        onConfirm={disconnect}
        onCancel={() => setPending(null)}
      />
    </div>
  );
}
