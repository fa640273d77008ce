import type { ReactNode } from 'react';
import { OfflineIcon } from './icons';
import './warning-banner.css';

/**
 * A condition the user should know about while the view keeps working (cached tasks, a shared
 * store away, a workspace skipped); the offline icon unless another one is given.
 */
export function WarningBanner({ children, testId, icon }: { children: ReactNode; testId?: string; icon?: ReactNode }) {
  return (
    <div className="warning-banner" data-testid={testId}>
      {icon ?? <OfflineIcon size={16} className="warning-banner__icon" />}
      <div className="warning-banner__text">{children}</div>
    </div>
  );
}
