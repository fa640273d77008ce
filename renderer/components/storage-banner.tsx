import type { StorageStatus } from '../../electron/shared/models';
import { useApp } from '../state/app-context';
import { WarningBanner } from './warning-banner';
import './storage-banner.css';

/**
 * Above every view while the shared store (PostgreSQL) does not answer: the accounts on screen
 * may be older than the store's, cached tokens are still served, and refreshes wait. The tray
 * says the same in its tooltip.
 */
export function StorageBanner({ status }: { status: StorageStatus | null }) {
  const { i18n } = useApp();
  // Always in the page, so the status region exists before its text changes and the change is announced.
  return (
    <div className="storage-banner" role="status">
      {status?.backend === 'shared' && !status.reachable ? (
        <WarningBanner testId="storage-unreachable">
          <strong className="warning-banner__badge">{i18n.t('storage.unreachable')}</strong>
          <span className="warning-banner__reason">{i18n.t('storage.unreachableDetail')}</span>
        </WarningBanner>
      ) : null}
    </div>
  );
}
