import { describe, expect, it } from 'vitest';
import { BUILTIN_PROVIDERS } from '../../electron/core/providers/builtin';
import { summarizeProvider } from '../../electron/core/providers/provider-summary';
import { FakeTokentrayService } from '../fakes/fake-service';

const summary = (id: string) =>
  summarizeProvider(
    BUILTIN_PROVIDERS.find((p) => p.id === id)!,
    null,
  );

describe('provider summaries (what the window and `provider list` show)', () => {
  it('carry the account-address example from the definition, per provider', () => {
    expect(summary('amocrm')).toMatchObject({ needsHost: true, hostExample: 'example.amocrm.ru' });
    expect(summary('kommo')).toMatchObject({ needsHost: true, hostExample: 'example.kommo.com' });
    expect(summary('clickup')).toMatchObject({ needsHost: false, hostExample: null });
  });

  it('mark the demo as set up with no redirect to register, and real providers as not set up', () => {
    expect(summary('demo')).toMatchObject({ kind: 'demo', configured: true, redirectUri: null });
    expect(summary('basecamp')).toMatchObject({ configured: false, redirectUri: 'http://127.0.0.1:8976/callback' });
  });

  it("the IPC tests' fake service offers exactly the real providers' methods (ClickUp's paste included)", async () => {
    const fake = await new FakeTokentrayService().listProviders();
    expect(fake).toEqual(BUILTIN_PROVIDERS.map((p) => summarizeProvider(p, null)));
    expect(fake.find((p) => p.id === 'clickup')?.methods).toContain('paste');
  });
});
