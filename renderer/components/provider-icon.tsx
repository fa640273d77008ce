import { FlaskIcon, KeyIcon } from './icons';

const MONOGRAMS: Record<string, string> = {
  clickup: 'C',
  basecamp: 'B',
  ticktick: 'T',
  dida365: 'D',
  amocrm: 'a',
  kommo: 'K',
};

/** Brand-coloured tile with a monogram; colours live in the stylesheet, keyed by provider id. */
export function ProviderIcon({ provider, size = 'md' }: { provider: string; size?: 'sm' | 'md' | 'lg' }) {
  const known = provider in MONOGRAMS || provider === 'demo';
  return (
    <span
      className={`provider-icon provider-icon--${size}`}
      data-provider={known ? provider : 'generic'}
      aria-hidden="true"
    >
      {provider === 'demo' ? (
        <FlaskIcon size={size === 'lg' ? 22 : 18} />
      ) : (
        (MONOGRAMS[provider] ?? <KeyIcon size={size === 'lg' ? 22 : 18} />)
      )}
    </span>
  );
}
