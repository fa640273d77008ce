import { afterEach, describe, expect, it } from 'vitest';
import { clickup } from '../../electron/core/providers/clickup';
import { endpointUrlProblem, isLoopbackHostname } from '../../electron/shared/endpoint-url';
import { makeTestCore, type TestCore } from '../support/test-core';

const cores: TestCore[] = [];
afterEach(async () => {
  for (const t of cores.splice(0)) await t.cleanup();
});

function core(): TestCore {
  const t = makeTestCore({ providers: [clickup] });
  cores.push(t);
  return t;
}

describe('where endpoint overrides may point (secrets travel to them)', () => {
  it('refuses plain http to any host but this machine, and stores nothing', async () => {
    const t = core();
    for (const field of ['authorizeUrl', 'tokenUrl', 'apiUrl', 'redirectUri'] as const) {
      await expect(
        t.core.setProvider('clickup', { clientId: 'c1', [field]: 'http://collector.example:8080/x' }),
      ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/plain http to collector\.example/) });
    }
    await expect(
      t.core.setProvider('clickup', { clientId: 'c1', tokenUrl: 'http://127.0.0.1.example.com/token' }),
    ).rejects.toMatchObject({ code: 'USAGE' });
    await expect(
      t.core.setProvider('clickup', { clientId: 'c1', tokenUrl: 'ftp://127.0.0.1/x' }),
    ).rejects.toMatchObject({
      code: 'USAGE',
    });
    expect((await t.core.listProviders()).find((p) => p.id === 'clickup')?.configured).toBe(false);
  });

  it('takes https anywhere and http on 127.0.0.0/8, ::1 and localhost', async () => {
    const t = core();
    for (const url of [
      'https://api.example.com/v2',
      'http://127.0.0.1:9/x',
      'http://127.8.9.10/x',
      'http://[::1]:80/x',
      'http://localhost:3/x',
    ]) {
      await expect(t.core.setProvider('clickup', { clientId: 'c1', apiUrl: url })).resolves.toMatchObject({
        configured: true,
      });
    }
  });

  it('names loopback hosts exactly', () => {
    expect(['127.0.0.1', '127.255.0.9', 'localhost', 'LOCALHOST', '[::1]'].every(isLoopbackHostname)).toBe(true);
    expect(
      ['127.0.0.1.nip.io', '128.0.0.1', '127.0.0.256', '0.0.0.0', '[::2]', 'localhost.example'].some(
        isLoopbackHostname,
      ),
    ).toBe(false);
    expect(endpointUrlProblem('https://user:pw@x.example/', 'The token URL')).toMatch(/user name or password/);
  });
});
