import type { ReactNode } from 'react';
import type { AppError } from '../../electron/shared/models';
import { useApp } from '../state/app-context';
import { AlertIcon } from './icons';
import './states.css';

export function EmptyState({
  icon,
  title,
  body,
  actions,
}: {
  icon: ReactNode;
  title: string;
  body: string;
  actions?: ReactNode;
}) {
  return (
    <div className="empty-state">
      <div className="empty-state__icon" aria-hidden="true">
        {icon}
      </div>
      <h2 className="empty-state__title">{title}</h2>
      <p className="empty-state__body">{body}</p>
      {actions ? <div className="empty-state__actions">{actions}</div> : null}
    </div>
  );
}

/** An error as the user sees it: what kind (by code, in their language) and the core's one-sentence explanation. */
export function ErrorState({ error, action }: { error: AppError; action?: ReactNode }) {
  const { i18n } = useApp();
  return (
    <div className="error-state" role="alert" data-error-code={error.code}>
      <AlertIcon size={20} />
      <div className="error-state__text">
        <strong>{i18n.errorTitle(error.code)}</strong>
        <span>{error.message}</span>
      </div>
      {action ? <div className="error-state__action">{action}</div> : null}
    </div>
  );
}

export function Spinner({ label }: { label?: string }) {
  return <span className="spinner" role={label ? 'status' : undefined} aria-label={label} />;
}
