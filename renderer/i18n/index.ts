import type { ErrorCode } from '../../electron/shared/models';
import { de } from './de';
import { en, type Messages } from './en';
import { ru } from './ru';
import type { Language, PluralForms } from './types';

export type { Language, PluralForms } from './types';
export { LANGUAGES } from './types';
export type { Messages } from './en';

export const CATALOGUES: Record<Language, Messages> = { en, ru, de };

/** The language's own name, shown in the switcher whatever the interface language is. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', ru: 'Русский', de: 'Deutsch' };

export type TextKey = { [K in keyof Messages]: Messages[K] extends string ? K : never }[keyof Messages];
export type PluralKey = { [K in keyof Messages]: Messages[K] extends PluralForms ? K : never }[keyof Messages];

export type Vars = Record<string, string | number>;

/** 'ru-RU' → ru, 'de-AT' → de, anything else → en. */
export function languageFromLocales(locales: readonly string[]): Language {
  for (const locale of locales) {
    const base = locale.toLowerCase().split(/[-_]/)[0];
    if (base === 'ru' || base === 'de' || base === 'en') return base;
  }
  return 'en';
}

export function resolveLanguage(preference: 'system' | Language, systemLocales: readonly string[]): Language {
  return preference === 'system' ? languageFromLocales(systemLocales) : preference;
}

function fill(template: string, vars: Vars | undefined, numbers: Intl.NumberFormat): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? numbers.format(value) : value;
  });
}

export interface Translator {
  language: Language;
  /** BCP 47 tag for Intl formatting. */
  locale: string;
  t(key: TextKey, vars?: Vars): string;
  tn(key: PluralKey, count: number, vars?: Vars): string;
  errorTitle(code: ErrorCode): string;
}

const LOCALES: Record<Language, string> = { en: 'en-US', ru: 'ru-RU', de: 'de-DE' };

export function createTranslator(language: Language, systemLocales: readonly string[] = []): Translator {
  const messages = CATALOGUES[language];
  // Keep the user's regional formats when they speak the chosen language (en-GB dates for en-GB users).
  const regional = systemLocales.find((l) => languageFromLocales([l]) === language && l.includes('-'));
  const locale = regional ?? LOCALES[language];
  const rules = new Intl.PluralRules(locale);
  // Built once per language: counts are formatted on every task-group header of every render.
  const numbers = new Intl.NumberFormat(locale);
  return {
    language,
    locale,
    t: (key, vars) => fill(messages[key], vars, numbers),
    tn: (key, count, vars) => {
      const forms = messages[key];
      const form = rules.select(count) as keyof PluralForms;
      return fill(forms[form] ?? forms.other, { n: count, ...vars }, numbers);
    },
    errorTitle: (code) => messages[`error.${code}`],
  };
}
