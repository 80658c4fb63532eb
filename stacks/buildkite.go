package stacks

import (
	"encoding/json"

	"mtrlz.dev/ci-infra/agent"
	"mtrlz.dev/ci-infra/internal/bksettings"
)

// BuildkiteSettings are the Buildkite settings the stack's trust rests on
// (docs/pipelines-and-roles.md): the default cluster with the test and
// builder queues, the deploy cluster with its queue alone; this
// repository's pipelines split between them; the release path's trigger
// and artifact rules. The stack exports them (buildkiteSettings), nextSteps
// tells the operator to make them, and cmd/buildkite-check compares them
// with Buildkite.
func (c *Config) BuildkiteSettings() bksettings.Settings {
	s := bksettings.Settings{
		Organization: c.BuildkiteOrg,
		Clusters: []bksettings.Cluster{
			{Role: bksettings.DefaultCluster, Queues: []string{c.AgentStacks.Test.Queue, c.AgentStacks.Builders.Queue}},
			// Its queue alone, and one agent token, the deploy agents': any
			// holder of a token of this cluster can take its jobs.
			{Role: bksettings.DeployCluster, ID: c.DeployClusterID, Queues: []string{c.AgentStacks.Deploy.Queue}, OnlyTheseQueues: true, Tokens: 1},
		},
		Pipelines: []bksettings.Pipeline{
			// Every build of this repository, forks behind the gate, with
			// fork branches prefixed so that no fork's branch reads "main".
			{Slug: c.CIPipeline, Cluster: bksettings.DefaultCluster, Builds: "code", PullRequests: true, Forks: true, PrefixForkBranches: true,
				Repository: c.CIRepository, Visibility: "private"},
			// Pushes to the deploy branch only, never a pull request; its
			// steps signed, its env empty (what they need is in their
			// signed env), and only the approvers unblock a deploy.
			deployClusterPipeline(bksettings.Pipeline{Slug: c.CIDeployPipeline, Builds: "code", BranchFilter: c.CIDeployBranch,
				Repository: c.CIRepository, BlockTeams: []string{agent.DeployApprovers}, Schedules: c.driftSchedules()}),
		},
	}
	if c.PublishPipeline != "" {
		s.Pipelines = append(s.Pipelines,
			// Only triggers create its builds.
			deployClusterPipeline(bksettings.Pipeline{Slug: c.PublishPipeline, Builds: "none", Repository: c.CIRepository}),
			// The release builds the release branch only, and no pull
			// request: its artifacts are what gets published, so it builds
			// in the deploy cluster, whose jobs only the deploy agents take
			// (one job an instance, signed steps, the guard's allow-list):
			// no default job, nor an agent it starts with the default
			// cluster's token, can take its jobs (issue 28).
			deployClusterPipeline(bksettings.Pipeline{Slug: c.ReleasePipeline, Builds: "code", BranchFilter: c.PublishBranch, Repository: c.ReleaseRepository}),
		)
		s.Rules = []bksettings.Rule{
			{Type: bksettings.RuleTrigger, Source: c.ReleasePipeline, Target: c.PublishPipeline},
			{Type: bksettings.RuleArtifactsRead, Source: c.PublishPipeline, Target: c.ReleasePipeline},
		}
	}
	return s
}

// DriftScheduleLabel names the deploy pipeline's schedule whose builds run
// only its drift step (.buildkite/deploy.yml, scripts/ci-drift).
const DriftScheduleLabel = "drift check"

// driftSchedules is the daily drift check of the deploy branch, unless
// driftSchedule is empty.
func (c *Config) driftSchedules() []bksettings.Schedule {
	if c.DriftSchedule == "" {
		return nil
	}
	return []bksettings.Schedule{{Label: DriftScheduleLabel, Cronline: c.DriftSchedule, Branch: c.CIDeployBranch}}
}

// deployClusterPipeline is p in the deploy cluster, as every pipeline
// there is: private, its settings' env empty, its steps signed.
func deployClusterPipeline(p bksettings.Pipeline) bksettings.Pipeline {
	p.Cluster, p.Visibility, p.NoEnv, p.Signed = bksettings.DeployCluster, "private", true, true
	return p
}

// buildkiteSettingsMap is BuildkiteSettings as the stack output holds it.
func (c *Config) buildkiteSettingsMap() (map[string]any, error) {
	return toMap(c.BuildkiteSettings())
}

// toMap is a struct as a stack output holds it: its JSON form.
func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}
