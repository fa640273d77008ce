import { useId, useState, type FormEvent, type ReactNode } from 'react';
import type { AccountSummary, AppError, ConnectMethod, ProviderSummary } from '../../electron/shared/models';
import { useApp } from '../state/app-context';
import { ExternalIcon, GlobeIcon, KeyIcon, PasteIcon, SettingsIcon } from './icons';
import { ErrorState, Spinner } from './states';
import './connect-methods.css';

const METHOD_ICONS: Record<ConnectMethod, ReactNode> = {
  loopback: <GlobeIcon size={20} />,
  paste: <PasteIcon size={20} />,
  token: <KeyIcon size={20} />,
};

function looksLikeUrl(text: string): boolean {
  return /^(https?|tokentray):\/\//i.test(text.trim());
}

function TextField({
  label,
  value,
  onChange,
  hint,
  type = 'text',
  mono = false,
  required = false,
  placeholder,
}: {
  label: string;
  value: string;
  onChange(v: string): void;
  hint?: string;
  type?: 'text' | 'password';
  mono?: boolean;
  required?: boolean;
  placeholder?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className={`input${mono ? ' input--mono' : ''}`}
        type={type}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="off"
        spellCheck={false}
        required={required}
        placeholder={placeholder}
      />
      {hint ? <p className="field__hint">{hint}</p> : null}
    </div>
  );
}

export function ConnectMethods({
  provider,
  defaultLabel,
  onSetup,
  onBrowser,
  onConnected,
  onAttempt,
}: {
  provider: ProviderSummary;
  defaultLabel: string | undefined;
  onSetup(): void;
  onBrowser(label: string | undefined): Promise<AppError | null>;
  onConnected(account: AccountSummary): void;
  onAttempt(attemptId: string): void;
}) {
  const { api, i18n, notifyError } = useApp();
  const groupName = useId();
  const [method, setMethod] = useState<ConnectMethod>(provider.methods[0] ?? 'loopback');
  const [label, setLabel] = useState(defaultLabel ?? '');
  const [pasted, setPasted] = useState('');
  const [host, setHost] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [pageOpened, setPageOpened] = useState(false);
  const needsApp = method !== 'token' && !provider.configured;
  const cleanLabel = label.trim() === '' ? undefined : label.trim();

  const run = async (action: () => Promise<AppError | null>): Promise<void> => {
    setBusy(true);
    setError(null);
    const failure = await action();
    setBusy(false);
    setError(failure);
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (needsApp) return;
    void run(async () => {
      if (method === 'loopback') return onBrowser(cleanLabel);
      const extra = { ...(cleanLabel ? { label: cleanLabel } : {}), ...(host.trim() ? { host: host.trim() } : {}) };
      const result =
        method === 'token'
          ? await api.connectWithToken({ provider: provider.id, token, ...extra })
          : looksLikeUrl(pasted)
            ? await api.completeConnectWithUrl({
                provider: provider.id,
                url: pasted.trim(),
                ...(cleanLabel ? { label: cleanLabel } : {}),
              })
            : await api.completeConnectWithCode({ provider: provider.id, code: pasted.trim(), ...extra });
      if (!result.ok) return result.error;
      setToken('');
      onConnected(result.data);
      return null;
    });
  };

  const openForPaste = async (): Promise<void> => {
    const started = await api.startConnect({
      provider: provider.id,
      listen: false,
      ...(cleanLabel ? { label: cleanLabel } : {}),
    });
    if (!started.ok) {
      setError(started.error);
      return;
    }
    onAttempt(started.data.attemptId);
    const opened = await api.openExternal({ url: started.data.authorizeUrl });
    if (!opened.ok) notifyError(opened.error);
    setPageOpened(true);
  };

  const canSubmit =
    !busy &&
    !needsApp &&
    (method === 'loopback' ||
      (method === 'paste' && pasted.trim() !== '') ||
      (method === 'token' && token.trim() !== '')) &&
    (!provider.needsHost || method === 'loopback' || host.trim() !== '' || looksLikeUrl(pasted));

  // amoCRM/Kommo codes and long-lived tokens both belong to one account host.
  const hostField = (
    <TextField
      label={i18n.t('connect.host')}
      value={host}
      onChange={setHost}
      hint={i18n.t('connect.hostHint', { example: provider.hostExample ?? 'example.com' })}
      placeholder={provider.hostExample ?? 'example.com'}
    />
  );

  return (
    <form className="panel form" onSubmit={submit} data-testid="connect-methods">
      <fieldset className="method-picker">
        <legend className="field__label">{i18n.t('connect.howTitle')}</legend>
        <div className="method-picker__options">
          {provider.methods.map((m) => (
            <label key={m} className="method-option" data-selected={m === method || undefined}>
              <input
                type="radio"
                name={groupName}
                value={m}
                checked={m === method}
                onChange={() => {
                  setMethod(m);
                  setError(null);
                }}
              />
              <span className="method-option__icon" aria-hidden="true">
                {METHOD_ICONS[m]}
              </span>
              <span className="method-option__text">
                <span className="method-option__title">{i18n.t(`method.${m}`)}</span>
                <span className="method-option__hint">{i18n.t(`method.${m}Hint`)}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>

      {needsApp ? (
        <div className="callout callout--warning">
          <div>
            <strong>{i18n.t('connect.setupFirstTitle', { provider: provider.name })}</strong>
            <span>{i18n.t('connect.setupFirstBody')}</span>
          </div>
          <button type="button" className="button button--primary" onClick={onSetup}>
            <SettingsIcon size={16} />
            {i18n.t('connect.setupNow')}
          </button>
        </div>
      ) : null}

      {!needsApp && method === 'loopback' ? (
        <p className="form__note">{i18n.t('connect.browserNote', { provider: provider.name })}</p>
      ) : null}

      {!needsApp && method === 'paste' ? (
        <>
          <div className="paste-steps">
            <div className="paste-steps__row">
              <span className="paste-steps__number">1</span>
              <span className="paste-steps__text">
                {provider.needsHost
                  ? i18n.t('connect.pasteStep1Host', { provider: provider.name })
                  : i18n.t('connect.pasteStep1')}
              </span>
              <button type="button" className="button" onClick={() => void openForPaste()}>
                <ExternalIcon size={16} />
                {pageOpened ? i18n.t('connect.reopen') : i18n.t('connect.openPage')}
              </button>
            </div>
            <div className="paste-steps__row">
              <span className="paste-steps__number">2</span>
              <span className="paste-steps__text">{i18n.t('connect.pasteStep2')}</span>
            </div>
          </div>
          <div className="field">
            <label className="field__label" htmlFor={`${groupName}-paste`}>
              {i18n.t('connect.pasteLabel')}
            </label>
            <textarea
              id={`${groupName}-paste`}
              className="input input--mono textarea"
              rows={3}
              value={pasted}
              onChange={(e) => setPasted(e.target.value)}
              spellCheck={false}
              autoComplete="off"
              placeholder="http://127.0.0.1/callback?code=…&state=…"
            />
          </div>
          {provider.needsHost && !looksLikeUrl(pasted) ? hostField : null}
        </>
      ) : null}

      {!needsApp && method === 'token' ? (
        <>
          {provider.personalTokenHint ? <p className="form__note">{provider.personalTokenHint}</p> : null}
          <TextField
            label={i18n.t('connect.token')}
            value={token}
            onChange={setToken}
            type="password"
            mono
            required
            hint={i18n.t('connect.tokenHint')}
          />
          {provider.needsHost ? hostField : null}
        </>
      ) : null}

      {!needsApp ? (
        <TextField
          label={i18n.t('connect.label')}
          value={label}
          onChange={setLabel}
          hint={i18n.t('connect.labelHint')}
          placeholder={i18n.t('connect.labelPlaceholder')}
        />
      ) : null}

      {error ? <ErrorState error={error} /> : null}

      {!needsApp ? (
        <div className="form__actions">
          {provider.kind !== 'demo' && provider.configured ? (
            <button type="button" className="button button--ghost form__actions-start" onClick={onSetup}>
              <SettingsIcon size={16} />
              {i18n.t('connect.editApp')}
            </button>
          ) : null}
          <button type="submit" className="button button--primary" disabled={!canSubmit} data-testid="connect-submit">
            {busy ? <Spinner /> : method === 'loopback' ? <GlobeIcon size={16} /> : null}
            {method === 'loopback' ? i18n.t('connect.signIn') : i18n.t('connect.connect')}
          </button>
        </div>
      ) : null}
    </form>
  );
}
