import { useEffect, useId, useState } from 'react';
import { LANGUAGE_NAMES, LANGUAGES, languageFromLocales, type Language } from '../i18n';
import { useApp } from '../state/app-context';
import { ConfirmDialog } from './confirm-dialog';
import { FlaskIcon, GlobeIcon, InspectIcon } from './icons';
import { PageHeader } from './page-header';
import { StartAtLoginRow } from './start-at-login-row';
import './settings-view.css';

function useSystemDark(): boolean {
  const [dark, setDark] = useState(() => window.matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = (): void => setDark(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  return dark;
}

export function SettingsView() {
  const {
    api,
    i18n,
    languagePreference,
    setLanguage,
    providers,
    notify,
    notifyError,
    reloadProviders,
    reloadAccounts,
  } = useApp();
  const languageId = useId();
  const dark = useSystemDark();
  const [confirmDemo, setConfirmDemo] = useState(false);
  const demo = providers?.find((p) => p.kind === 'demo');
  const system = LANGUAGE_NAMES[languageFromLocales(navigator.languages)];

  return (
    <div className="view">
      <PageHeader title={i18n.t('settings.title')} subtitle={i18n.t('settings.subtitle')} />
      <div className="view__body view__body--narrow">
        <section className="panel settings-row">
          <span className="settings-row__icon" aria-hidden="true">
            <GlobeIcon />
          </span>
          <div className="settings-row__text">
            <label className="settings-row__title" htmlFor={languageId}>
              {i18n.t('settings.language')}
            </label>
            <span className="settings-row__hint">{i18n.t('settings.languageHint')}</span>
          </div>
          <select
            id={languageId}
            className="select"
            value={languagePreference}
            onChange={(e) => void setLanguage(e.target.value as 'system' | Language)}
            data-testid="language-select"
          >
            <option value="system">{i18n.t('settings.languageSystem', { language: system })}</option>
            {LANGUAGES.map((l) => (
              <option key={l} value={l} lang={l}>
                {LANGUAGE_NAMES[l]}
              </option>
            ))}
          </select>
        </section>

        <section className="panel settings-row">
          <span className="settings-row__icon" aria-hidden="true">
            <span className="theme-swatch" data-dark={dark || undefined} />
          </span>
          <div className="settings-row__text">
            <span className="settings-row__title">{i18n.t('settings.theme')}</span>
            <span className="settings-row__hint">
              {i18n.t('settings.themeHint', { theme: dark ? i18n.t('settings.dark') : i18n.t('settings.light') })}
            </span>
          </div>
        </section>

        <StartAtLoginRow />

        {demo ? (
          <section className="panel settings-row">
            <span className="settings-row__icon" aria-hidden="true">
              <FlaskIcon />
            </span>
            <div className="settings-row__text">
              <span className="settings-row__title">{i18n.t('demo.calloutTitle')}</span>
              <span className="settings-row__hint">{i18n.t('demo.calloutBody')}</span>
            </div>
            <button type="button" className="button button--danger-ghost" onClick={() => setConfirmDemo(true)}>
              {i18n.t('demo.remove')}
            </button>
          </section>
        ) : null}

        <section className="panel settings-row">
          <span className="settings-row__icon" aria-hidden="true">
            <InspectIcon />
          </span>
          <div className="settings-row__text">
            <span className="settings-row__title">{i18n.t('settings.security')}</span>
            <span className="settings-row__hint">{i18n.t('settings.securityHint')}</span>
          </div>
        </section>
      </div>
      <ConfirmDialog
        open={confirmDemo}
        title={i18n.t('demo.removeTitle')}
        body={i18n.t('demo.removeBody')}
        confirmLabel={i18n.t('demo.remove')}
        cancelLabel={i18n.t('common.cancel')}
        onCancel={() => setConfirmDemo(false)}
        onConfirm={async () => {
          setConfirmDemo(false);
          const result = await api.removeDemo();
          if (result.ok) notify({ tone: 'success', title: i18n.t('demo.removed') });
          else notifyError(result.error);
          await Promise.all([reloadProviders(), reloadAccounts()]);
        }}
      />
    </div>
  );
}
