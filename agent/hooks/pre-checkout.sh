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
