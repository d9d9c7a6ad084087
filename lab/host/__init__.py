"""The native target: bare Debian/Ubuntu hosts converged by the Ansible roles in `roles/`.

Pipeline: read the user's `inventory.ini` → check every host is reachable and supported → render
`.lab/host/` (inventory, `group_vars`, `ansible.cfg`) → run the stack playbooks through
ansible-runner → verify with testinfra over SSH.
"""
