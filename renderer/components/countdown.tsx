import { useApp } from '../state/app-context';
import { useNow } from '../state/use-now';
import { expiryAt, formatSpan } from '../lib/time';
import './countdown.css';

/** "Expires in 4m 12s", ticking every second; role=timer keeps screen readers from announcing each tick. */
export function Countdown({ expiresAt }: { expiresAt: string | null }) {
  const { i18n } = useApp();
  const now = useNow(1000);
  const expiry = expiryAt(expiresAt, now);
  const text =
    expiry.kind === 'never'
      ? i18n.t('expiry.never')
      : expiry.kind === 'expires'
        ? i18n.t('expiry.in', { time: formatSpan(expiry.msLeft, i18n.locale) })
        : i18n.t('expiry.ago', { time: formatSpan(expiry.msAgo, i18n.locale) });
  return (
    <span className="countdown" role="timer" data-kind={expiry.kind} data-testid="countdown">
      {text}
    </span>
  );
}
