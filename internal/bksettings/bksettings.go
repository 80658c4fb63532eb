// Package bksettings owns what the stack needs of Buildkite, as data: the
// clusters and their queues, which pipeline lives in which cluster, the
// pipelines' pull-request, fork, branch, repository and step settings, and
// the cluster rules. No Pulumi provider for Buildkite is served to these
// machines, so the stack declares these settings (stacks, its
// buildkiteSettings output), an operator makes them in Buildkite
// (nextSteps), and internal/bkcheck compares them with Buildkite's API.
package bksettings

// The clusters of the design, by role.
const (
	DefaultCluster = "default"
	DeployCluster  = "deploy"
)

// The cluster rule types (Buildkite's rules API; public preview).
const (
	RuleTrigger       = "pipeline.trigger_build.pipeline"
	RuleArtifactsRead = "pipeline.artifacts_read.pipeline"
)

// Settings are what the stack needs of Buildkite.
type Settings struct {
	Organization string     `json:"organization"`
	Clusters     []Cluster  `json:"clusters"`
	Pipelines    []Pipeline `json:"pipelines"`
	Rules        []Rule     `json:"rules"`
}

// Cluster is one cluster and the queues it alone has.
type Cluster struct {
	Role string `json:"role"` // DefaultCluster or DeployCluster
	// ID is the cluster's UUID when the stack knows it (the deploy
	// cluster's, which the CI roles trust); the default cluster is found
	// by its queues.
	ID     string   `json:"id,omitempty"`
	Queues []string `json:"queues"`
	// OnlyTheseQueues: the cluster has no other queue. Tokens, when not 0,
	// is how many agent tokens it has: each is a way in.
	OnlyTheseQueues bool `json:"onlyTheseQueues,omitempty"`
	Tokens          int  `json:"tokens,omitempty"`
}

// Pipeline is one pipeline's cluster and GitHub settings.
type Pipeline struct {
	Slug    string `json:"slug"`
	Cluster string `json:"cluster"` // a Cluster's Role
	// Builds says which builds the repository's webhooks create: "code"
	// (pushes, and pull requests when PullRequests) or "none" (only
	// triggers, the UI and the API).
	Builds       string `json:"builds"`
	PullRequests bool   `json:"pullRequests"`
	// Forks and PrefixForkBranches matter only with PullRequests.
	Forks              bool `json:"forks,omitempty"`
	PrefixForkBranches bool `json:"prefixForkBranches,omitempty"`
	// BranchFilter, when set, is the only branch pushes build.
	BranchFilter string `json:"branchFilter,omitempty"`
	// Repository is the GitHub repository it builds, owner/name (any URL
	// form Buildkite holds matches). Visibility is "private" or "public".
	Repository string `json:"repository,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	// NoEnv: its settings hold no environment. A pipeline's env is
	// unsigned and any pipeline admin may change it; what a deploy
	// cluster's step needs is in its signed step env instead.
	NoEnv bool `json:"noEnv,omitempty"`
	// Signed: every command step of its settings' steps carries a
	// signature (its validity is the agents' to check).
	Signed bool `json:"signed,omitempty"`
	// BlockTeams, when set, are the only teams that may unblock each of
	// its block steps (allowed_teams).
	BlockTeams []string `json:"blockTeams,omitempty"`
	// Schedules are its scheduled builds, by label. A pipeline of the
	// deploy cluster has no other: a schedule starts builds nobody pushed.
	Schedules []Schedule `json:"schedules,omitempty"`
}

// Schedule is one scheduled build: when (Buildkite's cronline, in UTC
// unless it names a zone) and of which branch. It carries no env: what
// its steps need is in their signed env.
type Schedule struct {
	Label    string `json:"label"`
	Cronline string `json:"cronline"`
	Branch   string `json:"branch"`
}

// Rule lets Source trigger, or read the artifacts of, Target.
type Rule struct {
	Type   string `json:"type"`
	Source string `json:"source"` // pipeline slugs
	Target string `json:"target"`
}
