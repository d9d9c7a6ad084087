#!/bin/sh
# Prints the agent's state for `lab status`: "waiting for registration" (healthy: it is doing what
# it should) or "running" (healthy only while the agent's Java process is alive).
state=$(cat /var/lib/ragent/lab-status 2>/dev/null || echo starting)
echo "$state"
case "$state" in
  "waiting for registration") exit 0 ;;
  running) pgrep -f OKTARadiusAgent.jar >/dev/null ;;
  *) exit 1 ;;
esac
