set -euo pipefail
refuse() {
  echo "deploy-guard: refusing this job: $*" >&2
  exit 1
}
job=${BUILDKITE_ENV_JSON_FILE:-}
if [ -z "$job" ] || [ ! -r "$job" ]; then
  refuse "the agent gave no BUILDKITE_ENV_JSON_FILE"
fi
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
