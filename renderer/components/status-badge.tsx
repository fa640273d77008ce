import type { AccountStatus } from '../../electron/shared/models';
import { useApp } from '../state/app-context';
import './status-badge.css';

export function StatusBadge({ status }: { status: AccountStatus }) {
  const { i18n } = useApp();
  return (
    <span className="badge" data-tone={status} data-testid="status-badge">
      <span className="badge__dot" aria-hidden="true" />
      {i18n.t(`status.${status}`)}
    </span>
  );
}

export function DemoBadge() {
  const { i18n } = useApp();
  return (
    <span className="badge badge--demo" title={i18n.t('demo.hint')}>
      {i18n.t('demo.badge')}
    </span>
  );
}
