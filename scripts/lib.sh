# shellcheck shell=bash
# Functions shared by the scripts that talk to the real AWS account
# (ci-preview, ci-up, dr-rebuild). Source it; it sets no options.
#
# Two stacks of one name: the main stack (this directory), which holds no
# secret and whose passphrase is empty, and the ci-infra-secrets stack
# (secrets/), which holds the secrets and writes them where the main
# stack's secretsNeeded output says. Its key is its own: a passphrase in
# CI_INFRA_SECRETS_PASSPHRASE, or a KMS key if it was created with one.

# The main stack's passphrase: unset means empty (the CLI refuses a
# passphrase stack when neither passphrase variable is set).
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"

# secrets_pulumi ARGS...: pulumi on the secrets stacks, with their key.
secrets_pulumi() {
  PULUMI_CONFIG_PASSPHRASE="${CI_INFRA_SECRETS_PASSPHRASE-}" pulumi -C secrets "$@"
}

# has_secrets_stack STACK: whether the secrets stack STACK has been
# deployed (it exports mainStack).
has_secrets_stack() {
  secrets_pulumi stack output mainStack --stack "$1" >/dev/null 2>&1
}

# pin_secret_destinations STACK: pin where the secrets stack STACK may
# write (its secretsBucket, tokenPathPrefix and webhookUrls) to what the
# offline plan of the main stack STACK asks: this checkout's code and
# config, not whatever state a backend holds. Unset ones only; it says
# what it sets. Commit secrets/Pulumi.STACK.yaml afterwards.
pin_secret_destinations() {
  local stack=$1 needed="" key value unset=() urls=()
  for key in secretsBucket tokenPathPrefix webhookUrls; do
    value=$(secrets_pulumi config get --stack "$stack" "$key" 2>/dev/null || true)
    [ -z "$value" ] || [ "$value" = "[]" ] || continue
    unset+=("$key")
  done
  # Planning takes a while: only when something is left to pin.
  [ ${#unset[@]} -gt 0 ] || return 0
  needed=$(go run ./cmd/plan -stack "$stack" -json | jq -c '.outputs.secretsNeeded') || return 1
  for key in "${unset[@]}"; do
    case $key in
      secretsBucket) value=$(jq -r .bucket <<<"$needed") ;;
      tokenPathPrefix) value=$(jq -r .tokenPath <<<"$needed") ;;
      webhookUrls)
        mapfile -t urls < <(jq -r '.webhooks[]?.url' <<<"$needed")
        local i
        for i in "${!urls[@]}"; do
          echo "Pinning the secrets stack $stack: webhookUrls[$i] = ${urls[$i]}" >&2
          secrets_pulumi config set --stack "$stack" --plaintext --path "webhookUrls[$i]" "${urls[$i]}" || return 1
        done
        continue ;;
    esac
    echo "Pinning the secrets stack $stack: $key = $value" >&2
    # --plaintext: a path looks like a secret to the CLI, which asks.
    secrets_pulumi config set --stack "$stack" --plaintext "$key" "$value" || return 1
  done
}

# agent_stack_excludes STACK: the --exclude flags that leave STACK's agent
# stacks out of an up, from the offline plan (one list of URNs).
agent_stack_excludes() {
  go run ./cmd/plan -stack "$1" -json |
    jq -r '.resources[] | select(.type == "aws:cloudformation/stack:Stack") | "--exclude\n\(.urn)"'
}

# deploy_agents_excludes STACK: the --exclude flags that leave the deploy
# agents' own stack (the stack output deployStackName) and its component
# out of an up, from the offline plan: their URNs are the program's, never
# written here.
deploy_agents_excludes() {
  go run ./cmd/plan -stack "$1" -json | jq -r '
    .outputs.deployStackName as $name
    | [.resources[] | select(.type == "aws:cloudformation/stack:Stack" and .inputs.name == $name)] as $stacks
    | if ($stacks | length) != 1 then error("no single agent stack named \($name) in the plan") else . end
    | $stacks[0] | "--exclude\n\(.parent)\n--exclude-dependents\n--exclude\n\(.urn)"'
}

# use_pipeline_role ROLE_ARN STEP
# Inside a Buildkite job, trade the job's OIDC token (audience
# sts.amazonaws.com) for short-lived credentials of ROLE_ARN. The role
# trusts only the named step of this pipeline, and only on the deploy
# agents: the token carries its cluster_id as a session tag, which
# Buildkite's server sets from the agent token the agent registered with
# (the deploy cluster's), and no job or agent can choose (components/ciaccess).
# Outside Buildkite (an operator's laptop) keep the operator's credentials.
use_pipeline_role() {
  local role_arn=$1 step=$2 token creds
  if [ -z "${BUILDKITE:-}" ]; then
    echo "Not running in Buildkite: using your own AWS credentials." >&2
    return 0
  fi
  if [ -z "$role_arn" ]; then
    echo "No role for the $step step: set CI_INFRA_${step^^}_ROLE_ARN in the pipeline's environment to the stack output ci${step^}RoleArn." >&2
    return 1
  fi
  token=$(buildkite-agent oidc request-token --audience sts.amazonaws.com \
    --claim cluster_id --aws-session-tag cluster_id) || return 1
  creds=$(aws sts assume-role-with-web-identity \
    --role-arn "$role_arn" \
    --role-session-name "buildkite-${BUILDKITE_BUILD_NUMBER:-0}-$step" \
    --web-identity-token "$token" \
    --duration-seconds 3600 \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' \
    --output text) || return 1
  read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$creds"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
}

# read_buildkite_secret NAME
# Export NAME with the value of the Buildkite secret of that name
# (`buildkite-agent secret get`, agent v3.137 clicommand/secret_get.go:
# printed as is, redacted from the job's log). The secret's access policy
# in Buildkite lets only the deploy cluster's pipeline read it on main.
read_buildkite_secret() {
  local name=$1 value
  if ! value=$(buildkite-agent secret get "$name") || [ -z "$value" ]; then
    echo "No Buildkite secret $name for this job: create it in the deploy cluster's secrets, readable by this pipeline on main only (docs/secrets.md)." >&2
    return 1
  fi
  export "$name=$value"
}

# annotate FILE STATUS TITLE
# Show the summary of a pulumi run (from its "Resources:" line on, or its
# last 40 lines) as a Buildkite annotation. Does nothing outside Buildkite.
annotate() {
  local file=$1 status=$2 title=$3 summary
  [ -n "${BUILDKITE:-}" ] || return 0
  summary=$(sed -n '/^Resources:/,$p' "$file")
  [ -n "$summary" ] || summary=$(tail -n 40 "$file")
  local fence='```'
  printf '**%s** (exit %s)\n\n%sterm\n%s\n%s\n' "$title" "$status" "$fence" "$summary" "$fence" |
    post_annotation "$status" "$title"
}

# post_annotation STATUS TITLE
# Post the markdown on stdin as the build's annotation TITLE, an error when
# STATUS is not 0. Does nothing outside Buildkite.
post_annotation() {
  local status=$1 title=$2 style=success
  [ -n "${BUILDKITE:-}" ] || return 0
  [ "$status" -eq 0 ] || style=error
  buildkite-agent annotate --style "$style" --context "$title"
}

