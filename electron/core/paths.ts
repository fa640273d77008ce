import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'Tokentray';

/**
 * One state directory for the desktop app and the CLI: TOKENTRAY_HOME when set,
 * else the same per-OS folder Electron's `userData` resolves to for this app.
 */
export function resolveStateDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const override = env['TOKENTRAY_HOME'];
  if (override && override.trim() !== '') return override;
  if (platform === 'win32') return join(env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg && xdg.trim() !== '' ? xdg : join(homedir(), '.config'), APP_DIR_NAME);
}

export function keychainServiceName(env: NodeJS.ProcessEnv = process.env): string {
  const name = env['TOKENTRAY_KEYCHAIN_SERVICE'];
  return name && name.trim() !== '' ? name : 'tokentray';
}
