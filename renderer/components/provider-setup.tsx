import { useId, useState, type FormEvent } from 'react';
import type { ProviderSummary } from '../../electron/shared/models';
import { useApp } from '../state/app-context';
import { CopyField } from './copy-field';
import { ExternalIcon } from './icons';
import { ErrorState, Spinner } from './states';
import type { AppError } from '../../electron/shared/models';
import './provider-setup.css';

/** First-time set-up: the user registers an app with the provider and gives us its client id and secret. */
export function ProviderSetupForm({ provider, onSaved }: { provider: ProviderSummary; onSaved(): void }) {
  const { api, i18n, reloadProviders } = useApp();
  const idId = useId();
  const secretId = useId();
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await api.setProvider({
      provider: provider.id,
      clientId,
      ...(clientSecret.trim() === '' ? {} : { clientSecret }),
    });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setClientSecret('');
    await reloadProviders();
    onSaved();
  };

  return (
    <form className="panel form" onSubmit={submit} aria-labelledby={`${idId}-title`}>
      <div className="panel__header">
        <h2 id={`${idId}-title`} className="panel__title">
          {i18n.t('setup.title', { provider: provider.name })}
        </h2>
        <p className="panel__subtitle">{i18n.t('setup.intro', { provider: provider.name })}</p>
      </div>
      <ol className="steps-list">
        <li>
          <span>{i18n.t('setup.step1', { provider: provider.name })}</span>
          {provider.registerUrl ? (
            <button
              type="button"
              className="link-button"
              onClick={() => void api.openExternal({ url: provider.registerUrl ?? '' })}
            >
              {i18n.t('setup.openRegister')}
              <ExternalIcon size={14} />
            </button>
          ) : null}
        </li>
        <li>{i18n.t('setup.step2')}</li>
        <li>{i18n.t('setup.step3')}</li>
      </ol>
      {provider.redirectUri ? (
        <CopyField
          label={i18n.t('setup.redirectUri')}
          value={provider.redirectUri}
          hint={i18n.t('setup.redirectHint')}
        />
      ) : null}
      <div className="field">
        <label className="field__label" htmlFor={idId}>
          {i18n.t('setup.clientId')}
        </label>
        <input
          id={idId}
          className="input input--mono"
          value={clientId}
          onChange={(e) => setClientId(e.target.value)}
          required
          autoComplete="off"
          spellCheck={false}
        />
      </div>
      <div className="field">
        <label className="field__label" htmlFor={secretId}>
          {i18n.t('setup.clientSecret')}
        </label>
        <input
          id={secretId}
          className="input input--mono"
          type="password"
          value={clientSecret}
          onChange={(e) => setClientSecret(e.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
        <p className="field__hint">{i18n.t('setup.secretHint')}</p>
      </div>
      {error ? <ErrorState error={error} /> : null}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={busy || clientId.trim() === ''}>
          {busy ? <Spinner /> : null}
          {i18n.t('setup.save')}
        </button>
      </div>
    </form>
  );
}

/** Any OAuth 2.0 / OpenID Connect provider, found through its issuer's discovery document. */
export function GenericProviderForm({ onAdded }: { onAdded(provider: ProviderSummary): void }) {
  const { api, i18n, reloadProviders } = useApp();
  const base = useId();
  const [name, setName] = useState('');
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [scopes, setScopes] = useState('openid profile email offline_access');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const list = scopes.split(/[\s,]+/).filter(Boolean);
    const result = await api.addGenericProvider({
      name,
      issuer,
      clientId,
      ...(clientSecret.trim() === '' ? {} : { clientSecret }),
      ...(list.length > 0 ? { scopes: list } : {}),
    });
    setBusy(false);
    if (!result.ok) {
      setError(result.error);
      return;
    }
    setClientSecret('');
    await reloadProviders();
    onAdded(result.data);
  };

  const field = (key: string, label: string, value: string, set: (v: string) => void, extra: object = {}) => (
    <div className="field">
      <label className="field__label" htmlFor={`${base}-${key}`}>
        {label}
      </label>
      <input
        id={`${base}-${key}`}
        className="input"
        value={value}
        onChange={(e) => set(e.target.value)}
        autoComplete="off"
        spellCheck={false}
        {...extra}
      />
    </div>
  );

  return (
    <form className="panel form" onSubmit={submit} aria-labelledby={`${base}-title`}>
      <div className="panel__header">
        <h2 id={`${base}-title`} className="panel__title">
          {i18n.t('generic.title')}
        </h2>
        <p className="panel__subtitle">{i18n.t('generic.intro')}</p>
      </div>
      <div className="form__grid">
        {field('name', i18n.t('generic.name'), name, setName, { required: true, placeholder: 'corp' })}
        {field('issuer', i18n.t('generic.issuer'), issuer, setIssuer, {
          required: true,
          type: 'url',
          placeholder: 'https://id.example.com',
        })}
        {field('client', i18n.t('setup.clientId'), clientId, setClientId, { required: true })}
        {field('secret', i18n.t('generic.clientSecretOptional'), clientSecret, setClientSecret, { type: 'password' })}
      </div>
      {field('scopes', i18n.t('generic.scopes'), scopes, setScopes)}
      <p className="field__hint">
        {i18n.t('generic.redirectHint', { uri: `http://127.0.0.1/callback/${name.trim().toLowerCase() || 'name'}` })}
      </p>
      {error ? <ErrorState error={error} /> : null}
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? <Spinner /> : null}
          {i18n.t('generic.add')}
        </button>
      </div>
    </form>
  );
}
