#!/bin/bash
# electron-builder's own after-remove (templates/linux/after-remove.tpl), plus removing the CLI link.

# Delete the link to the binary
# update-alternatives --remove <name> <path>: 'path' must be the registered alternative binary,
# not the generic symlink — see https://man7.org/linux/man-pages/man1/update-alternatives.1.html
if type update-alternatives >/dev/null 2>&1; then
    update-alternatives --remove '${executable}' '/opt/${sanitizedProductName}/${executable}'
else
    rm -f '/usr/bin/${executable}'
fi

APPARMOR_PROFILE_DEST='/etc/apparmor.d/${executable}'

# Remove and unload apparmor profile.
if [ -f "$APPARMOR_PROFILE_DEST" ]; then
  # Unload the profile from the running kernel before deleting the file so the
  # policy is not left enforced until the next reboot.  Mirror the chroot guard
  # used in the after-install script — live AppArmor operations are not
  # meaningful inside a chroot.
  # https://wiki.debian.org/AppArmor/HowToUse
  if apparmor_status --enabled > /dev/null 2>&1; then
    if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
      apparmor_parser --remove "$APPARMOR_PROFILE_DEST" || true
    fi
  fi
  rm -f "$APPARMOR_PROFILE_DEST"
fi
# Only our own link: a `tokentray` installed some other way (npm i -g) is left alone.
if [ -L '/usr/bin/tokentray' ] && [ "$(readlink '/usr/bin/tokentray')" = '/opt/${sanitizedProductName}/resources/bin/tokentray' ]; then
  rm -f '/usr/bin/tokentray'
fi

# Start at login: the app writes ~/.config/autostart/tokentray.desktop (or under $XDG_CONFIG_HOME) for the user who
# turned it on. On removal (not on upgrade: dpkg runs postrm with "upgrade" then), delete every such entry this
# package's app wrote: only files carrying Tokentray's marker and starting this package's binary. An entry under a
# custom XDG_CONFIG_HOME that this cannot see is inert anyway: its TryExec names the removed binary.
case "$1" in
  upgrade|failed-upgrade|abort-install|abort-upgrade|disappear) ;;
  *)
    getent passwd | while IFS=: read -r _name _pw _uid _gid _gecos user_home _shell; do
      entry="$user_home/.config/autostart/tokentray.desktop"
      if [ -f "$entry" ] && [ ! -L "$entry" ] \
        && grep -qx 'X-Tokentray-Autostart=true' "$entry" \
        && grep -q "^TryExec=/opt/${sanitizedProductName}/${executable}\$" "$entry"; then
        rm -f "$entry"
      fi
    done
    ;;
esac
