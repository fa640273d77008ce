/** Plural forms as Intl.PluralRules names them; Russian needs few and many, English and German only one/other. */
export interface PluralForms {
  one: string;
  few?: string;
  many?: string;
  other: string;
}

export type Language = 'en' | 'ru' | 'de';
export const LANGUAGES: readonly Language[] = ['en', 'ru', 'de'];

/** Every language must provide every key the English catalogue has, with the same kind of value. */
export type CatalogueOf<T> = { [K in keyof T]: T[K] extends string ? string : PluralForms };
