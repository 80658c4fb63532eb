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
# also holds jobs to the allow-list: "pipeline branch" lines.
deploy_queue=${CI_INFRA_DEPLOY_QUEUE:-deploy}
deploy_allow=${CI_INFRA_DEPLOY_ALLOW:-}

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
#!/usr/bin/env bash
# Build-safety guard, installed by ci-infra's bootstrap.sh (agent/bootstrap.sh
# in the ci-infra repository); the agent sources it before every checkout.
ci_infra_refuse() {
  echo "^^^ +++"
  echo "build-safety: refusing to run this job: $*" >&2
  echo "build-safety: a trusted person can run it after reading the code: press Rebuild in the Buildkite UI." >&2
  if [ -n "${SSH_AGENT_PID:-}" ]; then
    kill "$SSH_AGENT_PID" 2>/dev/null || true
  fi
  unset SSH_AUTH_SOCK SSH_AGENT_PID
  exit 1
}
if [ -z "${BUILDKITE_JOB_ID:-}" ] || [ "${CI_INFRA_BUILD_SAFETY:-}" != "safe:${BUILDKITE_JOB_ID}" ]; then
  ci_infra_refuse "the build-safety check did not run for it or did not pass (the secrets bucket's env is missing or unreadable, the secrets plugin is off, or a hook failed)."
fi
GUARD
  if [ "${BUILDKITE_QUEUE:-}" = "$deploy_queue" ]; then
    printf 'ci_infra_deploy_allow=%q\n' "$deploy_allow"
    cat <<'DEPLOY'
# A deploy agent: its jobs may assume the CI roles, which trust its queue's
# tag (no token claim tells a fork from a push). Only a push build of an
# allowed (pipeline, branch) at the commit that is that branch's head on
# origin runs here.
ci_infra_line="${BUILDKITE_PIPELINE_SLUG:-} ${BUILDKITE_BRANCH:-}"
if ! grep -qxF -- "$ci_infra_line" <<<"$ci_infra_deploy_allow"; then
  ci_infra_refuse "deploy agents run only the allowed pipelines and branches, not '$ci_infra_line'."
fi
if [ "${BUILDKITE_PULL_REQUEST:-}" != false ] || [[ ${BUILDKITE_BRANCH:-} == *:* ]]; then
  ci_infra_refuse "deploy agents run pushes only, not pull request ${BUILDKITE_PULL_REQUEST:-?}."
fi
ci_infra_head=$(timeout 30 git ls-remote -- "${BUILDKITE_REPO:-}" "refs/heads/${BUILDKITE_BRANCH}" 2>/dev/null | cut -f1) || true
if [ -z "$ci_infra_head" ] || [ "$ci_infra_head" != "${BUILDKITE_COMMIT:-}" ]; then
  ci_infra_refuse "deploy agents run only the head of ${BUILDKITE_BRANCH} on origin (${ci_infra_head:-unknown}), not ${BUILDKITE_COMMIT:-?}."
fi
unset ci_infra_line ci_infra_head ci_infra_deploy_allow
DEPLOY
  fi
  echo 'unset -f ci_infra_refuse'
  echo 'return 0 2>/dev/null || exit 0'
} | install -o root -g root -m 0755 /dev/stdin "$agent_hooks/pre-checkout"
