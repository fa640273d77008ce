import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { AppError, TokenInspection } from '../../electron/shared/models';
import { claimRows, timelinePositions } from '../lib/jwt-claims';
import { formatDateTime, formatRelative, formatSpan } from '../lib/time';
import { useApp } from '../state/app-context';
import { useNow } from '../state/use-now';
import { Countdown } from './countdown';
import { ChevronLeftIcon, InspectIcon, RefreshIcon } from './icons';
import { PageHeader } from './page-header';
import { ProviderIcon } from './provider-icon';
import { ErrorState, Spinner } from './states';
import { DemoBadge, StatusBadge } from './status-badge';
import './inspector-view.css';

function Timeline({ inspection }: { inspection: TokenInspection }) {
  const { i18n } = useApp();
  const now = useNow(1000);
  const positions = timelinePositions(inspection.issuedAt, inspection.expiresAt, inspection.refreshDueAt, now);
  if (!positions || !inspection.issuedAt || !inspection.expiresAt) {
    return (
      <p className="timeline-empty">
        {inspection.expiresAt === null ? i18n.t('inspect.noExpiry') : i18n.t('inspect.noIssued')}
      </p>
    );
  }
  const percent = (v: number): string => `${(v * 100).toFixed(2)}%`;
  return (
    <div className="timeline">
      <div
        className="timeline__track"
        role="meter"
        aria-label={i18n.t('inspect.lifetimeUsed')}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(positions.now * 100)}
      >
        <div className="timeline__fill" style={{ width: percent(positions.now) }} />
        {positions.refresh !== null ? (
          <div
            className="timeline__marker"
            style={{ left: percent(positions.refresh) }}
            title={i18n.t('inspect.refreshDue')}
          />
        ) : null}
        <div className="timeline__now" style={{ left: percent(positions.now) }} />
      </div>
      <div className="timeline__labels">
        <span>
          <span className="timeline__caption">{i18n.t('inspect.issued')}</span>
          {formatDateTime(inspection.issuedAt, i18n.locale)}
        </span>
        {inspection.refreshDueAt ? (
          <span className="timeline__label-center">
            <span className="timeline__caption">
              {inspection.canRefresh ? i18n.t('inspect.refreshDue') : i18n.t('inspect.warnAt')}
            </span>
            {formatDateTime(inspection.refreshDueAt, i18n.locale)}
          </span>
        ) : null}
        <span className="timeline__label-end">
          <span className="timeline__caption">{i18n.t('inspect.expires')}</span>
          {formatDateTime(inspection.expiresAt, i18n.locale)}
        </span>
      </div>
    </div>
  );
}

function Detail({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="details__item">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function ClaimsTable({ title, values, testId }: { title: string; values: Record<string, unknown>; testId: string }) {
  const { i18n } = useApp();
  const rows = claimRows(values);
  return (
    <section className="panel" data-testid={testId}>
      <h2 className="panel__title">{title}</h2>
      <table className="claims">
        <thead>
          <tr>
            <th scope="col">{i18n.t('inspect.claim')}</th>
            <th scope="col">{i18n.t('inspect.value')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name}>
              <th scope="row">
                <code>{row.name}</code>
              </th>
              <td>
                {row.date ? (
                  <>
                    <span className="claims__date">{formatDateTime(row.date, i18n.locale)}</span>
                    <code className="claims__raw">{row.value}</code>
                  </>
                ) : (
                  <code className="claims__value">{row.value}</code>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function InspectorView({ accountId }: { accountId: string }) {
  const { api, i18n, navigate, accounts } = useApp();
  const now = useNow(30_000);
  const [inspection, setInspection] = useState<TokenInspection | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const account = accounts?.find((a) => a.id === accountId);
  // Re-read when the account changes (refreshed in the background, or from the accounts list).
  const version = account ? `${account.fingerprint}|${account.status}|${account.lastRefreshAt ?? ''}` : '';

  const [reloads, setReloads] = useState(0);
  const load = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    let current = true;
    void api.inspect({ accountId }).then((result) => {
      if (!current) return;
      if (result.ok) {
        setInspection(result.data);
        setError(null);
      } else setError(result.error);
    });
    return () => {
      current = false;
    };
  }, [api, accountId, version, reloads]);

  return (
    <div className="view">
      <PageHeader
        title={i18n.t('inspect.title')}
        subtitle={i18n.t('inspect.subtitle')}
        back={
          <button type="button" className="back-link" onClick={() => navigate({ name: 'accounts' })}>
            <ChevronLeftIcon size={16} />
            {i18n.t('nav.accounts')}
          </button>
        }
        actions={
          <button type="button" className="button" onClick={load}>
            <RefreshIcon size={16} />
            {i18n.t('inspect.reload')}
          </button>
        }
      />
      <div className="view__body" data-testid="inspector">
        {error ? <ErrorState error={error} /> : null}
        {!inspection && !error ? <Spinner label={i18n.t('common.loading')} /> : null}
        {inspection ? (
          <>
            <section className="panel inspect-summary">
              <div className="inspect-summary__head">
                <ProviderIcon provider={inspection.provider} size="lg" />
                <div className="inspect-summary__identity">
                  <div className="account-card__title">
                    <span className="account-card__label">{inspection.label}</span>
                    {account?.demo ? <DemoBadge /> : null}
                  </div>
                  <span className="account-card__meta">{account?.providerName ?? inspection.provider}</span>
                </div>
                <div className="inspect-summary__status">
                  <StatusBadge status={inspection.status} />
                  <Countdown expiresAt={inspection.expiresAt} />
                </div>
              </div>
              {inspection.statusDetail ? (
                <p className="account-card__detail" data-tone={inspection.status}>
                  {inspection.statusDetail}
                </p>
              ) : null}
              <Timeline inspection={inspection} />
            </section>

            <section className="panel">
              <h2 className="panel__title">{i18n.t('inspect.details')}</h2>
              <dl className="details">
                <Detail term={i18n.t('inspect.kind')}>{i18n.t(`inspect.kind.${inspection.tokenKind}`)}</Detail>
                <Detail term={i18n.t('inspect.lifetime')}>
                  {inspection.lifetimeSeconds === null
                    ? '—'
                    : formatSpan(inspection.lifetimeSeconds * 1000, i18n.locale)}
                </Detail>
                <Detail term={i18n.t('inspect.fingerprint')}>
                  <code data-testid="fingerprint">{inspection.fingerprint || '—'}</code>
                </Detail>
                <Detail term={i18n.t('inspect.refreshToken')}>
                  {inspection.hasRefreshToken ? i18n.t('common.yes') : i18n.t('common.no')}
                </Detail>
                <Detail term={i18n.t('inspect.lastRefresh')}>
                  {inspection.lastRefreshAt ? formatRelative(inspection.lastRefreshAt, now, i18n.locale) : '—'}
                </Detail>
                <Detail term={i18n.t('inspect.expires')}>
                  {inspection.expiresAt ? formatDateTime(inspection.expiresAt, i18n.locale) : i18n.t('expiry.never')}
                </Detail>
              </dl>
              <h3 className="panel__subtitle-heading">{i18n.t('inspect.scopes')}</h3>
              {inspection.scopes.length > 0 ? (
                <ul className="chips">
                  {inspection.scopes.map((scope) => (
                    <li key={scope} className="chip">
                      {scope}
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">{i18n.t('inspect.noScopes')}</p>
              )}
              <p className="secret-note">
                <InspectIcon size={16} />
                {i18n.t('inspect.neverShown')}
              </p>
            </section>

            {inspection.jwt ? (
              <div className="inspect-columns">
                <ClaimsTable title={i18n.t('inspect.claims')} values={inspection.jwt.claims} testId="jwt-claims" />
                <ClaimsTable title={i18n.t('inspect.header')} values={inspection.jwt.header} testId="jwt-header" />
              </div>
            ) : (
              <section className="panel">
                <h2 className="panel__title">{i18n.t('inspect.claims')}</h2>
                <p className="muted">{i18n.t('inspect.notJwt')}</p>
              </section>
            )}

            <section className="panel">
              <h2 className="panel__title">{i18n.t('inspect.history')}</h2>
              {inspection.refreshHistory.length === 0 ? (
                <p className="muted">{i18n.t('inspect.noHistory')}</p>
              ) : (
                <ol className="history" data-testid="refresh-history">
                  {inspection.refreshHistory.map((event, index) => (
                    <li key={`${event.at}-${index}`} data-outcome={event.outcome}>
                      <span className="history__dot" aria-hidden="true" />
                      <span className="history__outcome">
                        {event.outcome === 'ok' ? i18n.t('inspect.refreshOk') : i18n.t('inspect.refreshFailed')}
                        {event.code ? <span className="history__code"> · {i18n.errorTitle(event.code)}</span> : null}
                      </span>
                      <time className="history__time" dateTime={event.at}>
                        {formatDateTime(event.at, i18n.locale)}
                      </time>
                    </li>
                  ))}
                </ol>
              )}
            </section>
          </>
        ) : null}
      </div>
    </div>
  );
}
