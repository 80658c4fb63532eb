#!/usr/bin/env bash
# Bootstrap script of the Buildkite agent instances.
#
# The Elastic CI Stack downloads it from the config bucket (the stacks'
# BootstrapScriptUrl) and runs it as root at boot, before the agent starts.
# A failure marks the instance unhealthy, so it must not fail on a second run:
# every step below is idempotent.
#
# The paths and user can be overridden for tests; on an agent they are the
# stack's defaults.
set -euo pipefail

agent_user=${AGENT_USER:-buildkite-agent}
agent_home=${AGENT_HOME:-/var/lib/buildkite-agent}
agent_config=${AGENT_CONFIG:-/etc/buildkite-agent/buildkite-agent.cfg}
# The stack's hooks-path (bk-install-elastic-stack.sh, v6.71.1).
agent_hooks=${AGENT_HOOKS_PATH:-/etc/buildkite-agent/hooks}
# The template runs bk-install-elastic-stack.sh, and so this script, with
# BUILDKITE_QUEUE set to the stack's queue (aws-stack.yml, v6.71.1, UserData).
# On the deploy queue, whose agents alone may assume the CI roles, the guard
# also holds jobs to the allow-list: "pipeline branch [triggering-pipeline]" lines.
deploy_queue=${CI_INFRA_DEPLOY_QUEUE:-deploy}
deploy_allow=${CI_INFRA_DEPLOY_ALLOW:-}
# The plugins a deploy job may use, exactly as its steps name them (none).
deploy_plugins=${CI_INFRA_DEPLOY_PLUGINS:-}
# The deploy agents' own allow-lists, in the agent's config: plugin sources
# and environment variables, as comma-separated patterns (agent.go).
deploy_allowed_plugins=${CI_INFRA_DEPLOY_ALLOWED_PLUGINS:-^$}
deploy_allowed_env=${CI_INFRA_DEPLOY_ALLOWED_ENV:-}

# Create the cache directories owned by the agent user. Otherwise the Docker
# daemon creates them as root on the first bind mount, and the build
# containers, which run as the agent user, cannot write to them.
for dir in "$agent_home/.cache/sccache" "$agent_home/.cargo"; do
  mkdir -p "$dir"
  chown -R "$agent_user:" "$dir"
done

# The build-safety gate reads GitHub's membership answer with jq, and
# refuses every fork build it cannot read (env.tmpl, membership_state).
# Amazon Linux 2023 packages jq; install it if the AMI lacks it. A failure
# here fails the boot, which is better than agents that refuse all forks.
if ! command -v jq >/dev/null 2>&1; then
  dnf install -y -q jq
fi

# set_option KEY VALUE sets KEY=VALUE in the agent config, replacing an
# earlier value instead of appending a second line.
set_option() {
  local key=$1 value=$2
  touch "$agent_config"
  if grep -q "^${key}=" "$agent_config"; then
    sed -i "s|^${key}=.*|${key}=${value}|" "$agent_config"
  else
    printf '%s=%s\n' "$key" "$value" >>"$agent_config"
  fi
}

# Don't clean gitignored files (no -x): the Rust build cache lives in the
# ignored target directory, and keeping it is what makes the builders fast.
set_option git-clean-flags -ffdq

# The build-safety guard. The gate (the secrets bucket's `env`) fails open
# when it does not run: the secrets helper skips an `env` that is missing or
# unreadable, and a job may switch the secrets plugin off. So every job must
# also pass this pre-checkout hook, which refuses it unless the gate ran for
# this very job and said safe (the marker it exports). The AMI's hooks
# directory already holds the stack's environment, pre-command and pre-exit
# hooks; pre-checkout is free. The image gives the directory to the agent
# user (install-buildkite-agent.sh); it becomes root's, so that no job can
# replace or remove a hook.
install -d -o root -g root -m 0755 "$agent_hooks"
chown -R root:root "$agent_hooks"
chmod -R go-w "$agent_hooks"
{
  cat <<'GUARD'
{{.PreCheckout -}}
GUARD
  if [ "${BUILDKITE_QUEUE:-}" = "$deploy_queue" ]; then
    cat <<'DEPLOY'
{{.PreCheckoutDeploy -}}
DEPLOY
  fi
  echo 'unset -f ci_infra_refuse'
  # Sourced, the hook returns; run on its own, it exits.
  echo '# shellcheck disable=SC2317 # the exit is for a run that is not sourced'
  echo 'return 0 2>/dev/null || exit 0'
} | install -o root -g root -m 0755 /dev/stdin "$agent_hooks/pre-checkout"

# The deploy agents' guard proper: a pre-bootstrap hook. The agent runs it,
# as its own user, before the job process starts (buildkite/agent v3.137
# agent/run_job.go), so no phase setting, plugin or hook of the job gets
# ahead of it, and a non-zero exit refuses the job. It sees the job only
# through BUILDKITE_ENV_JSON_FILE, which it parses with jq and never
# sources. A repository's own hooks (.buildkite/hooks) never run here.
if [ "${BUILDKITE_QUEUE:-}" = "$deploy_queue" ]; then
  set_option no-local-hooks true
  # The agent refuses, before any hook, a plugin whose source matches no
  # allowed-plugins pattern, and checks every key of the job's environment
  # against allowed-environment-variables (buildkite/agent v3.137). The
  # guard below holds the same lines on its own.
  set_option allowed-plugins "$deploy_allowed_plugins"
  if [ -n "$deploy_allowed_env" ]; then
    set_option allowed-environment-variables "$deploy_allowed_env"
  fi
  {
    echo '#!/usr/bin/env bash'
    echo '# Deploy guard, installed by ci-infra'"'"'s bootstrap.sh (agent/bootstrap.sh).'
    printf 'allow=%q\n' "$deploy_allow"
    printf 'plugins=%q\n' "$deploy_plugins"
    cat <<'PREBOOTSTRAP'
{{.PreBootstrap -}}
PREBOOTSTRAP
  } | install -o root -g root -m 0755 /dev/stdin "$agent_hooks/pre-bootstrap"
fi
