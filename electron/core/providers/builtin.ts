import { amocrm, kommo } from './amocrm';
import { basecamp } from './basecamp';
import { clickup } from './clickup';
import { demo } from './demo';
import { dida365, ticktick } from './ticktick';
import type { ProviderDefinition } from './types';

/** Every provider Tokentray ships with; generic OAuth/OIDC providers are added at run time. */
export const BUILTIN_PROVIDERS: readonly ProviderDefinition[] = [
  clickup,
  basecamp,
  ticktick,
  dida365,
  amocrm,
  kommo,
  demo,
];
