import { useId, useState } from 'react';
import { useApp } from '../state/app-context';
import { CheckIcon, CopyIcon } from './icons';
import './copy-field.css';

/** Copies non-secret text (a redirect URI) with the page's own clipboard; tokens never come here. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function CopyField({ label, value, hint }: { label: string; value: string; hint?: string }) {
  const { i18n } = useApp();
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <div className="copy-field">
        <input id={id} className="input input--mono" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          className="button"
          onClick={async () => {
            if (await copyText(value)) {
              setCopied(true);
              setTimeout(() => setCopied(false), 2000);
            }
          }}
        >
          {copied ? <CheckIcon size={16} /> : <CopyIcon size={16} />}
          {copied ? i18n.t('common.copied') : i18n.t('common.copy')}
        </button>
      </div>
      {hint ? <p className="field__hint">{hint}</p> : null}
    </div>
  );
}
