import { useEffect, useId, useState } from 'react';
import type { StartAtLoginStatus } from '../../electron/shared/ipc-contract';
import { useApp } from '../state/app-context';
import { ClockIcon } from './icons';
import './start-at-login-row.css';

/** Settings → "Start Tokentray when I log in": a switch over the main process's login item (or autostart entry). */
export function StartAtLoginRow() {
  const { api, i18n, notify, notifyError } = useApp();
  const id = useId();
  const hintId = useId();
  const [status, setStatus] = useState<StartAtLoginStatus | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    void api.getStartAtLogin().then((result) => {
      if (!live) return;
      if (result.ok) setStatus(result.data);
      else notifyError(result.error);
    });
    return () => {
      live = false;
    };
  }, [api, notifyError]);

  const toggle = async (enabled: boolean): Promise<void> => {
    setBusy(true);
    const result = await api.setStartAtLogin({ enabled });
    setBusy(false);
    if (!result.ok) {
      notifyError(result.error);
      return;
    }
    setStatus(result.data);
    notify({
      tone: 'success',
      title: i18n.t(result.data.enabled ? 'settings.startAtLoginOn' : 'settings.startAtLoginOff'),
    });
  };

  const unsupported = status !== null && !status.supported;
  return (
    <section className="panel settings-row" data-testid="start-at-login">
      <span className="settings-row__icon" aria-hidden="true">
        <ClockIcon />
      </span>
      <div className="settings-row__text">
        <label className="settings-row__title" htmlFor={id}>
          {i18n.t('settings.startAtLogin')}
        </label>
        <span className="settings-row__hint" id={hintId}>
          {unsupported
            ? i18n.t('settings.startAtLoginUnavailable', { reason: status?.reason ?? '' })
            : i18n.t('settings.startAtLoginHint')}
        </span>
      </div>
      <input
        id={id}
        type="checkbox"
        role="switch"
        className="switch"
        aria-describedby={hintId}
        checked={status?.enabled ?? false}
        disabled={status === null || unsupported}
        // While the change is in flight the switch stays focused (disabled would drop focus to the page).
        aria-disabled={busy || undefined}
        onChange={(e) => {
          if (!busy) void toggle(e.target.checked);
        }}
        data-testid="start-at-login-switch"
      />
    </section>
  );
}
