# A deploy agent: its jobs may assume the CI roles. The pre-bootstrap hook
# refused every job outside the allow-list before the job started; here,
# with the deploy key loaded, only the commit that is the branch's head on
# origin goes on.
ci_infra_head=$(timeout 30 git ls-remote -- "${BUILDKITE_REPO:-}" "refs/heads/${BUILDKITE_BRANCH:-}" 2>/dev/null | cut -f1) || true
if [ -z "$ci_infra_head" ] || [ "$ci_infra_head" != "${BUILDKITE_COMMIT:-}" ]; then
  ci_infra_refuse "deploy agents run only the head of ${BUILDKITE_BRANCH:-?} on origin (${ci_infra_head:-unknown}), not ${BUILDKITE_COMMIT:-?}."
fi
unset ci_infra_head
