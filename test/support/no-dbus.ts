/**
 * The environment of a server without a Secret Service, for CLI runs inside the test keyring's
 * session: the session bus address names a socket that does not exist (so libsecret cannot reach
 * any keychain and D-Bus does not try to autolaunch one), no X display, and no store key from the
 * test runner's environment.
 */
export const NO_DBUS: Record<string, string> = {
  DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/tokentray-no-bus',
  DISPLAY: '',
  TOKENTRAY_STORE_KEY_FILE: '',
  CREDENTIALS_DIRECTORY: '',
};
