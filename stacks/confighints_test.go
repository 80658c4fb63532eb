package stacks

import (
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
		key, value string
		resource   string // the resource whose property is checked (for a pattern, one it matches)
		want       any
	}{
		{"agents-stack", "parameters.MinSize"}:                        {"agentsMinSize", "2", "", "2"},
		{"agents-stack", "parameters.MaxSize"}:                        {"agentsMaxSize", "30", "", "30"},
		{"agents-stack", "parameters.InstanceTypes"}:                  {"agentsInstanceTypes", `["c5.4xlarge","c5.2xlarge"]`, "", "c5.4xlarge,c5.2xlarge"},
		{"agents-stack", "parameters.ScaleInIdlePeriod"}:              {"agentsScaleInIdleSeconds", "600", "", "600"},
		{"agents-stack", "parameters.OnDemandPercentage"}:             {"agentsOnDemandPercentage", "50", "", "50"},
		{"agents-stack", "parameters.InstanceBuffer"}:                 {"agentsInstanceBuffer", "4", "", "4"},
		{"agents-stack", "parameters.ScaleOutForWaitingJobs"}:         {"agentsScaleOutForWaitingJobs", "false", "", nil},
		{"agents-stack", "parameters.ScaleOutCooldownPeriod"}:         {"scaleOutCooldownSeconds", "60", "", "60"},
		{"builders-stack", "parameters.MinSize"}:                      {"buildersMinSize", "2", "", "2"},
		{"builders-stack", "parameters.MaxSize"}:                      {"buildersMinSize", "2", "", "2"},
		{"builders-stack", "parameters.InstanceTypes"}:                {"buildersInstanceTypes", `["c5.4xlarge"]`, "", "c5.4xlarge"},
		{"builders-stack", "parameters.OnDemandPercentage"}:           {"buildersOnDemandPercentage", "50", "", "50"},
		{"builders-burst-stack", "parameters.MaxSize"}:                {"buildersMaxSize", "3", "", "2"},
		{"builders-burst-stack", "parameters.OnDemandPercentage"}:     {"buildersBurstOnDemandPercentage", "50", "", "50"},
		{"builders-burst-stack", "parameters.InstanceBuffer"}:         {"buildersBurstInstanceBuffer", "1", "", "1"},
		{"builders-burst-stack", "parameters.ScaleUpMinSize"}:         {"buildersBurstWorkingHoursMinSize", "2", "", "2"},
		{"builders-burst-stack", "parameters.ScaleUpSchedule"}:        {"scaleUpSchedule", "0 13 * * MON-FRI", "", "0 13 * * MON-FRI"},
		{"builders-burst-stack", "parameters.ScaleDownSchedule"}:      {"scaleDownSchedule", "0 22 * * MON-FRI", "", "0 22 * * MON-FRI"},
		{"builders-burst-stack", "parameters.ScheduleTimezone"}:       {"scheduleTimezone", "Europe/London", "", "Europe/London"},
		{"builders-burst-stack", "parameters.ScaleOutCooldownPeriod"}: {"scaleOutCooldownSeconds", "60", "", "60"},
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
			opts.Config["ci-infra:"+row.key] = row.value
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
