import type { ReactNode } from 'react';
import { OfflineIcon } from './icons';
import './warning-banner.css';

/** A condition the user should know about while the view keeps working (cached tasks, a shared store away). */
export function WarningBanner({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <div className="warning-banner" data-testid={testId}>
      <OfflineIcon size={16} className="warning-banner__icon" />
      <div className="warning-banner__text">{children}</div>
    </div>
  );
}
