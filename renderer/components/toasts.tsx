import type { Toast } from '../state/app-context';
import { useApp } from '../state/app-context';
import { AlertIcon, CheckIcon, CloseIcon } from './icons';
import './toasts.css';

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss(id: number): void }) {
  const { i18n } = useApp();
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((toast) => (
        <div key={toast.id} className="toast" data-tone={toast.tone} role={toast.tone === 'error' ? 'alert' : 'status'}>
          <span className="toast__icon">{toast.tone === 'error' ? <AlertIcon /> : <CheckIcon />}</span>
          <div className="toast__text">
            <strong>{toast.title}</strong>
            {toast.detail ? <span>{toast.detail}</span> : null}
          </div>
          <button
            type="button"
            className="icon-button icon-button--sm"
            aria-label={i18n.t('common.dismiss')}
            onClick={() => onDismiss(toast.id)}
          >
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
