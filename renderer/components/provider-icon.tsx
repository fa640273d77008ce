import type { ReactNode } from 'react';
import { FlaskIcon, KeyIcon } from './icons';
import './provider-icon.css';

type Glyph = (size: number) => ReactNode;

/**
 * The provider icon data: each built-in provider's monogram or glyph. Colours live in the
 * stylesheet, keyed by the same id; a provider not listed here (a generic one) gets a key.
 */
const ICONS: Record<string, string | Glyph> = {
  clickup: 'C',
  basecamp: 'B',
  ticktick: 'T',
  dida365: 'D',
  amocrm: 'a',
  kommo: 'K',
  demo: (size) => <FlaskIcon size={size} />,
};

/** Brand-coloured tile with a monogram. */
export function ProviderIcon({ provider, size = 'md' }: { provider: string; size?: 'sm' | 'md' | 'lg' }) {
  const icon = Object.hasOwn(ICONS, provider) ? ICONS[provider] : undefined;
  const glyphSize = size === 'lg' ? 22 : 18;
  return (
    <span
      className={`provider-icon provider-icon--${size}`}
      data-provider={icon === undefined ? 'generic' : provider}
      aria-hidden="true"
    >
      {icon === undefined ? <KeyIcon size={glyphSize} /> : typeof icon === 'string' ? icon : icon(glyphSize)}
    </span>
  );
}
