#!/bin/sh
# As the official redis image: options or a .conf first run redis-server; redis-server started as root fixes the
# ownership of /data and drops to the redis user. The official build compiles protected mode off; Debian's binary
# has it on, so it is turned off here (after the config file or `-` when one is given, so the caller's flags win).
set -e
if [ "$(umask)" = 0022 ]; then umask 0077; fi
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
  shift
  if [ "$#" -gt 0 ] && { [ "$1" = -v ] || [ "$1" = --version ] || [ "$1" = -h ] || [ "$1" = --help ]; }; then
    set -- redis-server "$@"
  elif [ "$#" -gt 0 ] && [ "${1#--}" = "$1" ]; then
    config="$1"
    shift
    set -- redis-server "$config" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
