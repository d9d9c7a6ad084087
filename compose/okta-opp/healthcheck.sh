#!/bin/sh
# Prints the agent's state for `lab status`: "waiting for registration" counts as healthy (the
# container does what it should until someone registers it); "running" needs the agent process.
state=$(cat "${OPP_STATUS_FILE:-/run/okta-lab-status}" 2>/dev/null || echo starting)
echo "$state"
case "$state" in
  "waiting for registration") exit 0 ;;
  running) kill -0 "$(cat "${OPP_STATUS_FILE:-/run/okta-lab-status}.pid" 2>/dev/null)" 2>/dev/null ;;
  *) exit 1 ;;
esac
