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
    cat <<'DEPLOY'
# A deploy agent: its jobs may assume the CI roles. The pre-bootstrap hook
# refused every job outside the allow-list before the job started; here,
# with the deploy key loaded, only the commit that is the branch's head on
# origin goes on.
ci_infra_head=$(timeout 30 git ls-remote -- "${BUILDKITE_REPO:-}" "refs/heads/${BUILDKITE_BRANCH:-}" 2>/dev/null | cut -f1) || true
if [ -z "$ci_infra_head" ] || [ "$ci_infra_head" != "${BUILDKITE_COMMIT:-}" ]; then
  ci_infra_refuse "deploy agents run only the head of ${BUILDKITE_BRANCH:-?} on origin (${ci_infra_head:-unknown}), not ${BUILDKITE_COMMIT:-?}."
fi
unset ci_infra_head
DEPLOY
  fi
  echo 'unset -f ci_infra_refuse'
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
set -euo pipefail
refuse() {
  echo "deploy-guard: refusing this job: $*" >&2
  exit 1
}
job=${BUILDKITE_ENV_JSON_FILE:-}
[ -n "$job" ] && [ -r "$job" ] || refuse "the agent gave no BUILDKITE_ENV_JSON_FILE"
command -v jq >/dev/null 2>&1 || refuse "jq is missing"
jq -e 'type == "object" and all(.[]; type == "string")' "$job" >/dev/null 2>&1 ||
  refuse "the job's environment is not an object of strings"
get() { jq -r --arg k "$1" '.[$k] // ""' "$job"; }

# What changes which phases run, or how, is not for a deploy to choose: a
# build's environment (the UI, the API, a trigger's build.env) is covered
# by no signature. The marker is the gate's to set, never the job's.
forbidden=$(jq -r '. as $env | [$ARGS.positional[] | select(. as $k | $env | has($k))] | first // ""' "$job" --args \
  BUILDKITE_BOOTSTRAP_PHASES BUILDKITE_SKIP_CHECKOUT BUILDKITE_HOOKS_PATH BUILDKITE_PLUGINS_PATH \
  BUILDKITE_PLUGINS_ENABLED BUILDKITE_LOCAL_HOOKS_ENABLED BUILDKITE_SHELL BUILDKITE_GIT_CLONE_FLAGS \
  BUILDKITE_GIT_FETCH_FLAGS BUILDKITE_GIT_CLONE_MIRROR_FLAGS BUILDKITE_GIT_SUBMODULES CI_INFRA_BUILD_SAFETY) ||
  refuse "could not read the job's environment"
[ -z "$forbidden" ] || refuse "$forbidden is set in the job's environment."

# The allow-list names (pipeline, branch), and for a triggered build also
# the pipeline that triggered it: Buildkite's server sets the source and
# the triggering pipeline; a build that no trigger created matches only an
# entry without one, and only if a push created it, or a schedule for its
# drift step. A build from the UI, the API or a schedule carries an
# environment its creator chose, which
# overrides the pipeline's and no signature covers (go-pipeline v0.18.1
# signature/: command, env, plugins, matrix and repository only): an
# operator deploys by hand from a laptop instead (scripts/ci-up).
source=$(get BUILDKITE_SOURCE)
line="$(get BUILDKITE_PIPELINE_SLUG) $(get BUILDKITE_BRANCH)"
case $source in
  webhook) ;;
  trigger_job) line="$line $(get BUILDKITE_TRIGGERED_FROM_BUILD_PIPELINE_SLUG)" ;;
  # The scheduled drift check: the step key is the server's, from the
  # pipeline's own steps; the drift step takes the preview role (it writes
  # nothing), and no other step of a scheduled build runs here.
  schedule)
    step=$(get BUILDKITE_STEP_KEY)
    [ "$step" = drift ] || refuse "a scheduled build runs only the drift check (step drift), not step '$step'."
    ;;
  *) refuse "deploy agents run builds of a push (webhook), of the release's trigger or the drift schedule, not of source '$source': deploy by hand from a laptop with scripts/ci-up." ;;
esac
# grep -F would take each line of a multi-line value as a pattern of its own.
[[ $line != *$'\n'* ]] || refuse "the pipeline or branch has more than one line."
grep -qxF -- "$line" <<<"$allow" || refuse "deploy agents run only the allowed pipelines and branches, not '$line'."
pull_request=$(get BUILDKITE_PULL_REQUEST)
branch=$(get BUILDKITE_BRANCH)
if [ "$pull_request" != false ] || [[ $branch == *:* ]]; then
  refuse "deploy agents run pushes only, not pull request ${pull_request:-?}."
fi
# Plugins run before the checkout: each must be one of the pinned ones.
used_json=$(get BUILDKITE_PLUGINS)
if [ -n "$used_json" ]; then
  used=$(jq -r 'if type == "array" then .[] | if type == "object" then keys[] else error("not a plugin") end else error("not a list") end' <<<"$used_json") ||
    refuse "BUILDKITE_PLUGINS is not a list of plugins"
  while IFS= read -r plugin; do
    [ -z "$plugin" ] || grep -qxF -- "$plugin" <<<"$plugins" || refuse "the plugin '$plugin' is not one the deploy agents run."
  done <<<"$used"
fi
exit 0
PREBOOTSTRAP
  } | install -o root -g root -m 0755 /dev/stdin "$agent_hooks/pre-bootstrap"
fi
