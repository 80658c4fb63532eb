package stacks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/confighints"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/plantest"
)

// The drift report tells an operator which key keeps a value the account
// drifted to (internal/confighints). Each hint is checked here against the
// program: setting its key changes the property it names, to the value
// the hint says. A hint with no row fails, as does a row whose key moves
// nothing.
func TestEveryConfigHintSetsItsProperty(t *testing.T) {
	const repos = `[{"name":"materialize","defaultBranch":"master","requiredChecks":["buildkite/test","buildkite/lint"],"requiredApprovals":2},` +
		`{"name":"ci-infra","defaultBranch":"main","requiredChecks":["buildkite/ci-infra"]}]`
	rows := map[[2]string]struct {
		key      string
		value    any    // a JSON value; a string for a flat key, as the stack file holds it
		resource string // the resource whose property is checked (for a pattern, one it matches)
		want     any
	}{
		{"agents-stack", "parameters.MinSize"}:                        {"agentStacks.test.minSize", 2, "", "2"},
		{"agents-stack", "parameters.MaxSize"}:                        {"agentStacks.test.maxSize", 30, "", "30"},
		{"agents-stack", "parameters.InstanceTypes"}:                  {"agentStacks.test.instanceTypes", []string{"c5.4xlarge", "c5.2xlarge"}, "", "c5.4xlarge,c5.2xlarge"},
		{"agents-stack", "parameters.ScaleInIdlePeriod"}:              {"agentStacks.test.scaleInIdleSeconds", 600, "", "600"},
		{"agents-stack", "parameters.OnDemandPercentage"}:             {"agentStacks.test.onDemandPercentage", 50, "", "50"},
		{"agents-stack", "parameters.InstanceBuffer"}:                 {"agentStacks.test.instanceBuffer", 4, "", "4"},
		{"agents-stack", "parameters.ScaleOutForWaitingJobs"}:         {"agentStacks.test.scaleOutForWaitingJobs", false, "", nil},
		{"agents-stack", "parameters.ScaleOutCooldownPeriod"}:         {"agentStacks.test.scaleOutCooldownSeconds", 60, "", "60"},
		{"builders-stack", "parameters.MinSize"}:                      {"agentStacks.builders.minSize", 2, "", "2"},
		{"builders-stack", "parameters.MaxSize"}:                      {"agentStacks.builders.minSize", 2, "", "2"},
		{"builders-stack", "parameters.InstanceTypes"}:                {"agentStacks.builders.instanceTypes", []string{"c5.4xlarge"}, "", "c5.4xlarge"},
		{"builders-stack", "parameters.OnDemandPercentage"}:           {"agentStacks.builders.onDemandPercentage", 50, "", "50"},
		{"builders-burst-stack", "parameters.MaxSize"}:                {"agentStacks.builders.maxSize", 3, "", "2"},
		{"builders-burst-stack", "parameters.ScaleInIdlePeriod"}:      {"agentStacks.builders.burst.scaleInIdleSeconds", 600, "", "600"},
		{"builders-burst-stack", "parameters.OnDemandPercentage"}:     {"agentStacks.builders.burst.onDemandPercentage", 50, "", "50"},
		{"builders-burst-stack", "parameters.InstanceBuffer"}:         {"agentStacks.builders.burst.instanceBuffer", 1, "", "1"},
		{"builders-burst-stack", "parameters.ScaleUpMinSize"}:         {"agentStacks.builders.burst.workingHours.minSize", 2, "", "2"},
		{"builders-burst-stack", "parameters.ScaleUpSchedule"}:        {"agentStacks.builders.burst.workingHours.start", "0 13 * * MON-FRI", "", "0 13 * * MON-FRI"},
		{"builders-burst-stack", "parameters.ScaleDownSchedule"}:      {"agentStacks.builders.burst.workingHours.end", "0 22 * * MON-FRI", "", "0 22 * * MON-FRI"},
		{"builders-burst-stack", "parameters.ScheduleTimezone"}:       {"agentStacks.builders.burst.workingHours.timezone", "Europe/London", "", "Europe/London"},
		{"builders-burst-stack", "parameters.ScaleOutCooldownPeriod"}: {"agentStacks.builders.burst.scaleOutCooldownSeconds", 60, "", "60"},
		{"deploy-agents-stack", "parameters.InstanceTypes"}:           {"agentStacks.deploy.instanceType", "c5.2xlarge", "", "c5.2xlarge"},
		{"deploy-agents-stack", "parameters.ScaleInIdlePeriod"}:       {"agentStacks.deploy.scaleInIdleSeconds", 600, "", "600"},
		{"guardrails-*-default-branch", "requiredPullRequestReviews"}: {"repositories", repos, "guardrails-materialize-default-branch",
			[]any{map[string]any{"dismissStaleReviews": true, "requiredApprovingReviewCount": 2.0}}},
		{"guardrails-*-default-branch", "requiredStatusChecks"}: {"repositories", repos, "guardrails-materialize-default-branch",
			[]any{map[string]any{"contexts": []any{"buildkite/test", "buildkite/lint"}, "strict": true}}},
	}
	prod := prodPlan(t)
	for _, entry := range confighints.Entries() {
		t.Run(entry[0]+" "+entry[1], func(t *testing.T) {
			row, ok := rows[entry]
			require.True(t, ok, "no row checks this hint")
			h, ok := confighints.For(nameOr(row.resource, entry[0]), entry[1])
			require.True(t, ok)
			assert.Equal(t, row.key, h.Key, "the hint names the key the row sets")
			opts := plantest.StackOptions(t, "prod")
			if object, path, ok := strings.Cut(row.key, "."); ok {
				plantest.SetPath(t, opts.Config, "ci-infra:"+object, path, row.value)
			} else {
				opts.Config["ci-infra:"+row.key] = row.value.(string)
			}
			p, err := plan.Run(Build, opts)
			require.NoError(t, err)
			name := nameOr(row.resource, entry[0])
			r := find(t, p, name)
			assert.Equal(t, row.want, r.Input(entry[1]), "setting %s moves %s.%s", row.key, name, entry[1])
			assert.NotEqual(t, find(t, prod, name).Input(entry[1]), r.Input(entry[1]), "the row changes the property from prod's")
		})
	}
}

func nameOr(name, fallback string) string {
	if name != "" {
		return name
	}
	return fallback
}

func find(t *testing.T, p *plan.Plan, name string) plan.Resource {
	t.Helper()
	for _, r := range p.Registered() {
		if r.Name == name && r.Custom {
			return r
		}
	}
	t.Fatalf("no resource %s in the plan", name)
	return plan.Resource{}
}
