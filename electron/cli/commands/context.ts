import type { TokentrayCore } from '../../core/service';
import type { TokentrayService } from '../../core/service-api';

/** What a command module gets from the `tokentray` entry: the core, built on first use. */
export interface CliContext {
  getCore(): Promise<TokentrayCore & TokentrayService>;
}

/** commander's collector for options that may be given more than once. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A command that ends with another program's exit status (`exec`) leaves it here; the entry returns it. */
export const commandOutcome: { exitCode: number | null } = { exitCode: null };
