import { useEffect, useRef, useState } from 'react';
import type { IpcEventPayload } from '../../electron/shared/ipc-contract';
import type { AccountSummary, AppError, ProviderSummary } from '../../electron/shared/models';
import { useApp } from '../state/app-context';
import { ConfirmDialog } from './confirm-dialog';
import { ConnectMethods } from './connect-methods';
import { CheckIcon, ChevronLeftIcon, ChevronRightIcon, ExternalIcon, KeyIcon } from './icons';
import { PageHeader } from './page-header';
import { GenericProviderForm, ProviderSetupForm } from './provider-setup';
import { ProviderIcon } from './provider-icon';
import { ErrorState, Spinner } from './states';
import './connect-view.css';

type Phase = IpcEventPayload<'connectProgress'>['phase'];
type ConnectResult = IpcEventPayload<'connectResult'>;

type Step =
  | { kind: 'provider' }
  | { kind: 'generic' }
  | { kind: 'setup'; providerId: string }
  | { kind: 'method'; providerId: string }
  | { kind: 'waiting'; providerId: string; attemptId: string; authorizeUrl: string; phase: Phase }
  | { kind: 'done'; account: AccountSummary }
  | { kind: 'failed'; providerId: string; error: AppError };

/** Browser sign-in and paste both need the app registered; a personal token does not. */
function needsSetup(provider: ProviderSummary): boolean {
  return !provider.configured && !provider.methods.includes('token');
}

function initialStep(providerId: string | undefined, providers: ProviderSummary[] | null): Step {
  if (!providerId) return { kind: 'provider' };
  const provider = providers?.find((p) => p.id === providerId);
  if (provider && needsSetup(provider)) return { kind: 'setup', providerId };
  return { kind: 'method', providerId };
}

const PHASES: Phase[] = ['waiting-for-browser', 'exchanging-code', 'verifying-identity', 'stored'];

function ProviderGrid({ onPick, onGeneric }: { onPick(p: ProviderSummary): void; onGeneric(): void }) {
  const { api, i18n, providers, reloadProviders, notify, notifyError } = useApp();
  const [confirmRemove, setConfirmRemove] = useState(false);
  if (providers === null) return <Spinner label={i18n.t('common.loading')} />;
  const demo = providers.find((p) => p.kind === 'demo');
  const ordered = [...providers.filter((p) => p.kind === 'demo'), ...providers.filter((p) => p.kind !== 'demo')];
  return (
    <>
      <ul className="provider-grid" aria-label={i18n.t('connect.chooseProvider')}>
        {ordered.map((provider) => (
          <li key={provider.id} className="provider-tile" data-kind={provider.kind}>
            <button
              type="button"
              className="provider-tile__button"
              onClick={() => onPick(provider)}
              data-testid={`provider-${provider.id}`}
            >
              <ProviderIcon provider={provider.id} size="lg" />
              <span className="provider-tile__text">
                <span className="provider-tile__name">
                  {provider.name}
                  {provider.kind === 'demo' ? <span className="badge badge--demo">{i18n.t('demo.badge')}</span> : null}
                </span>
                <span className="provider-tile__state" data-ready={provider.configured || undefined}>
                  {provider.kind === 'demo'
                    ? i18n.t('connect.demoHint')
                    : provider.configured
                      ? i18n.t('connect.ready')
                      : provider.methods.includes('token')
                        ? i18n.t('connect.tokenOrSetup')
                        : i18n.t('connect.needsSetup')}
                </span>
              </span>
              <ChevronRightIcon className="provider-tile__chevron" />
            </button>
          </li>
        ))}
        <li className="provider-tile" data-kind="add-generic">
          <button type="button" className="provider-tile__button" onClick={onGeneric}>
            <ProviderIcon provider="generic" size="lg" />
            <span className="provider-tile__text">
              <span className="provider-tile__name">{i18n.t('generic.tile')}</span>
              <span className="provider-tile__state">{i18n.t('generic.tileHint')}</span>
            </span>
            <ChevronRightIcon className="provider-tile__chevron" />
          </button>
        </li>
      </ul>
      {demo ? (
        <div className="callout">
          <div>
            <strong>{i18n.t('demo.calloutTitle')}</strong>
            <span>{i18n.t('demo.calloutBody')}</span>
          </div>
          <button type="button" className="button button--ghost" onClick={() => setConfirmRemove(true)}>
            {i18n.t('demo.remove')}
          </button>
        </div>
      ) : null}
      <ConfirmDialog
        open={confirmRemove}
        title={i18n.t('demo.removeTitle')}
        body={i18n.t('demo.removeBody')}
        confirmLabel={i18n.t('demo.remove')}
        cancelLabel={i18n.t('common.cancel')}
        onCancel={() => setConfirmRemove(false)}
        onConfirm={async () => {
          setConfirmRemove(false);
          const result = await api.removeDemo();
          if (result.ok) notify({ tone: 'success', title: i18n.t('demo.removed') });
          else notifyError(result.error);
          await reloadProviders();
        }}
      />
    </>
  );
}

function Waiting({
  provider,
  phase,
  onReopen,
  onCancel,
}: {
  provider: ProviderSummary | undefined;
  phase: Phase;
  onReopen(): void;
  onCancel(): void;
}) {
  const { i18n } = useApp();
  const current = PHASES.indexOf(phase);
  return (
    <section className="panel waiting" aria-live="polite" data-testid="connect-waiting">
      <div className="waiting__head">
        <Spinner />
        <div>
          <h2 className="panel__title">{i18n.t('connect.waitingTitle')}</h2>
          <p className="panel__subtitle">{i18n.t('connect.waitingBody', { provider: provider?.name ?? '' })}</p>
        </div>
      </div>
      <ol className="phase-list">
        {PHASES.map((p, index) => (
          <li key={p} data-state={index < current ? 'done' : index === current ? 'current' : 'todo'}>
            <span className="phase-list__marker" aria-hidden="true">
              {index < current ? <CheckIcon size={12} /> : null}
            </span>
            {i18n.t(`connect.phase.${p}`)}
          </li>
        ))}
      </ol>
      <div className="form__actions">
        <button type="button" className="button" onClick={onReopen}>
          <ExternalIcon size={16} />
          {i18n.t('connect.reopen')}
        </button>
        <button type="button" className="button button--ghost" onClick={onCancel}>
          {i18n.t('common.cancel')}
        </button>
      </div>
    </section>
  );
}

export function ConnectView({ providerId, reconnect }: { providerId?: string; reconnect?: string }) {
  const { api, i18n, providers, accounts, navigate, reloadAccounts, notifyError } = useApp();
  const [step, setStep] = useState<Step>(() => initialStep(providerId, providers));
  const attemptRef = useRef<string | null>(null);
  const early = useRef(new Map<string, ConnectResult>());
  const reconnecting = reconnect ? accounts?.find((a) => a.id === reconnect) : undefined;

  // Providers may arrive after the view opens from a deep route (Reconnect, Try the demo).
  const [seeded, setSeeded] = useState(providers !== null);
  if (!seeded && providers !== null) {
    setSeeded(true);
    setStep(initialStep(providerId, providers));
  }

  const finish = (result: ConnectResult): void => {
    attemptRef.current = null;
    if (result.ok) {
      setStep({ kind: 'done', account: result.account });
      void reloadAccounts();
    } else if (result.error.code !== 'CONNECT_CANCELLED') {
      setStep({ kind: 'failed', providerId: result.provider, error: result.error });
    }
  };
  const finishRef = useRef(finish);
  useEffect(() => {
    finishRef.current = finish;
  });

  useEffect(() => {
    const offProgress = api.on('connectProgress', (progress) => {
      if (progress.attemptId !== attemptRef.current) return;
      setStep((s) => (s.kind === 'waiting' ? { ...s, phase: progress.phase } : s));
    });
    const offResult = api.on('connectResult', (result) => {
      if (result.attemptId === attemptRef.current) finishRef.current(result);
      else early.current.set(result.attemptId, result);
    });
    return () => {
      offProgress();
      offResult();
      const attemptId = attemptRef.current;
      if (attemptId) void api.cancelConnect({ attemptId });
    };
  }, [api]);

  const provider = 'providerId' in step ? providers?.find((p) => p.id === step.providerId) : undefined;

  const startBrowser = async (p: ProviderSummary, label: string | undefined): Promise<AppError | null> => {
    const started = await api.startConnect({ provider: p.id, ...(label ? { label } : {}) });
    if (!started.ok) return started.error;
    const { attemptId, authorizeUrl } = started.data;
    attemptRef.current = attemptId;
    setStep({ kind: 'waiting', providerId: p.id, attemptId, authorizeUrl, phase: 'waiting-for-browser' });
    const already = early.current.get(attemptId);
    if (already) finish(already);
    const opened = await api.openExternal({ url: authorizeUrl });
    if (!opened.ok) notifyError(opened.error);
    return null;
  };

  const cancel = async (): Promise<void> => {
    const attemptId = attemptRef.current;
    attemptRef.current = null;
    if (attemptId) await api.cancelConnect({ attemptId });
    if (step.kind === 'waiting') setStep({ kind: 'method', providerId: step.providerId });
  };

  const back = (): void => {
    if (step.kind === 'provider') navigate({ name: 'accounts' });
    else setStep({ kind: 'provider' });
  };

  const title = reconnecting
    ? i18n.t('connect.reconnectTitle', { label: reconnecting.label })
    : provider && step.kind !== 'done'
      ? i18n.t('connect.titleProvider', { provider: provider.name })
      : i18n.t('connect.title');

  return (
    <div className="view">
      <PageHeader
        title={title}
        subtitle={i18n.t('connect.subtitle')}
        back={
          step.kind !== 'provider' && step.kind !== 'done' && step.kind !== 'waiting' ? (
            <button type="button" className="back-link" onClick={back}>
              <ChevronLeftIcon size={16} />
              {i18n.t('connect.allProviders')}
            </button>
          ) : undefined
        }
      />
      <div className="view__body view__body--narrow">
        {step.kind === 'provider' ? (
          <ProviderGrid
            onPick={(p) =>
              setStep(needsSetup(p) ? { kind: 'setup', providerId: p.id } : { kind: 'method', providerId: p.id })
            }
            onGeneric={() => setStep({ kind: 'generic' })}
          />
        ) : null}
        {step.kind === 'generic' ? (
          <GenericProviderForm onAdded={(p) => setStep({ kind: 'method', providerId: p.id })} />
        ) : null}
        {step.kind === 'setup' && provider ? (
          <ProviderSetupForm provider={provider} onSaved={() => setStep({ kind: 'method', providerId: provider.id })} />
        ) : null}
        {step.kind === 'method' && provider ? (
          <ConnectMethods
            provider={provider}
            defaultLabel={reconnecting?.label}
            onSetup={() => setStep({ kind: 'setup', providerId: provider.id })}
            onBrowser={(label) => startBrowser(provider, label)}
            onConnected={(account) => {
              setStep({ kind: 'done', account });
              void reloadAccounts();
            }}
            onAttempt={(attemptId) => {
              // Paste flow: an attempt without a listener; the pasted address completes it.
              attemptRef.current = null;
              early.current.delete(attemptId);
            }}
          />
        ) : null}
        {step.kind === 'waiting' ? (
          <Waiting
            provider={provider}
            phase={step.phase}
            onCancel={cancel}
            onReopen={() => void api.openExternal({ url: step.authorizeUrl })}
          />
        ) : null}
        {step.kind === 'done' ? (
          <section className="panel result" data-testid="connect-done">
            <div className="result__icon" data-tone="success">
              <CheckIcon size={28} />
            </div>
            <h2 className="panel__title">{i18n.t('connect.doneTitle', { label: step.account.label })}</h2>
            <p className="panel__subtitle">{i18n.t('connect.doneBody', { provider: step.account.providerName })}</p>
            <div className="form__actions form__actions--center">
              <button type="button" className="button button--primary" onClick={() => navigate({ name: 'accounts' })}>
                <KeyIcon size={16} />
                {i18n.t('connect.viewAccounts')}
              </button>
              <button type="button" className="button" onClick={() => setStep({ kind: 'provider' })}>
                {i18n.t('connect.another')}
              </button>
            </div>
          </section>
        ) : null}
        {step.kind === 'failed' ? (
          <section className="panel" data-testid="connect-failed">
            <ErrorState error={step.error} />
            <div className="form__actions">
              <button
                type="button"
                className="button button--primary"
                onClick={() => setStep({ kind: 'method', providerId: step.providerId })}
              >
                {i18n.t('common.tryAgain')}
              </button>
            </div>
          </section>
        ) : null}
      </div>
    </div>
  );
}
