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

# Create the cache directories owned by the agent user. Otherwise the Docker
# daemon creates them as root on the first bind mount, and the build
# containers, which run as the agent user, cannot write to them.
for dir in "$agent_home/.cache/sccache" "$agent_home/.cargo"; do
  mkdir -p "$dir"
  chown -R "$agent_user:" "$dir"
done

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
