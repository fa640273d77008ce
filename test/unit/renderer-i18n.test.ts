import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../electron/shared/models';
import { CATALOGUES, createTranslator, languageFromLocales, LANGUAGES, resolveLanguage } from '../../renderer/i18n';
import type { PluralForms } from '../../renderer/i18n';

function placeholders(value: string | PluralForms): string[] {
  const text = typeof value === 'string' ? value : Object.values(value).join(' ');
  return [...new Set(text.match(/\{\w+\}/g) ?? [])].sort();
}

describe('interface text', () => {
  it('has every English key in Russian and German, non-empty, with the same placeholders', () => {
    const keys = Object.keys(CATALOGUES.en) as Array<keyof typeof CATALOGUES.en>;
    for (const language of LANGUAGES) {
      const catalogue = CATALOGUES[language];
      expect(Object.keys(catalogue).sort()).toEqual([...keys].sort());
      for (const key of keys) {
        const value = catalogue[key];
        const texts = typeof value === 'string' ? [value] : Object.values(value);
        for (const text of texts) expect(text.trim(), `${language} ${key}`).not.toBe('');
        expect(placeholders(value), `${language} ${key}`).toEqual(placeholders(CATALOGUES.en[key]));
      }
    }
  });

  it('names every error code the core can send, in every language', () => {
    for (const language of LANGUAGES) {
      const t = createTranslator(language);
      for (const code of ERROR_CODES) expect(t.errorTitle(code)).toMatch(/\S/);
    }
  });

  it('uses Russian plural forms', () => {
    const t = createTranslator('ru');
    expect(t.tn('tasks.count', 1)).toBe('1 задача');
    expect(t.tn('tasks.count', 3)).toBe('3 задачи');
    expect(t.tn('tasks.count', 11)).toBe('11 задач');
    expect(t.tn('tasks.count', 21)).toBe('21 задача');
    expect(createTranslator('de').tn('tasks.count', 10_000)).toBe('10.000 Aufgaben');
    expect(createTranslator('en').tn('tasks.count', 10_000)).toBe('10,000 tasks');
  });

  it('fills placeholders', () => {
    expect(createTranslator('en').t('accounts.confirmTitle', { label: 'work' })).toBe('Disconnect work?');
    expect(createTranslator('de').t('connect.titleProvider', { provider: 'ClickUp' })).toBe('ClickUp verbinden');
  });

  it('follows the OS locale unless the user picked a language', () => {
    expect(languageFromLocales(['ru-RU', 'en-US'])).toBe('ru');
    expect(languageFromLocales(['de-AT'])).toBe('de');
    expect(languageFromLocales(['fr-FR', 'de-DE'])).toBe('de');
    expect(languageFromLocales(['fr-FR'])).toBe('en');
    expect(languageFromLocales([])).toBe('en');
    expect(resolveLanguage('system', ['de-CH'])).toBe('de');
    expect(resolveLanguage('ru', ['de-CH'])).toBe('ru');
    expect(createTranslator('en', ['en-GB']).locale).toBe('en-GB');
    expect(createTranslator('de', ['en-GB']).locale).toBe('de-DE');
  });
});
