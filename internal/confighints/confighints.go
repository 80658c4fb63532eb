// Package confighints says which config key sets a property of a resource
// the program declares: how an operator adopts a change made in the
// account into code, instead of letting the next `pulumi up` put it back.
// The drift report (internal/previewreport) names it. The table is data;
// stacks' TestEveryConfigHintSetsItsProperty sets each key and checks that
// the plan's property follows, so a hint cannot name the wrong key.
package confighints

import (
	"path"
	"sort"
)

// Hint is the key behind a property, and how its value reaches it.
type Hint struct {
	// Key is without the project's namespace; a dotted key is a field of
	// a config object ("agentStacks.test.maxSize"), set with --path.
	Key string
	// Derived, when set, says how the property follows from the key (it
	// is not the key's value itself).
	Derived string
}

// table maps a resource's logical name (a path.Match pattern) and a
// property's dotted path to its hint.
var table = map[string]map[string]Hint{
	"agents-stack": {
		"parameters.MinSize":                {Key: "agentStacks.test.minSize"},
		"parameters.MaxSize":                {Key: "agentStacks.test.maxSize"},
		"parameters.InstanceTypes":          {Key: "agentStacks.test.instanceTypes", Derived: "the list, joined by commas"},
		"parameters.ScaleInIdlePeriod":      {Key: "agentStacks.test.scaleInIdleSeconds"},
		"parameters.OnDemandPercentage":     {Key: "agentStacks.test.onDemandPercentage"},
		"parameters.InstanceBuffer":         {Key: "agentStacks.test.instanceBuffer"},
		"parameters.ScaleOutForWaitingJobs": {Key: "agentStacks.test.scaleOutForWaitingJobs"},
		"parameters.ScaleOutCooldownPeriod": {Key: "agentStacks.test.scaleOutCooldownSeconds"},
	},
	"builders-stack": {
		"parameters.MinSize":            {Key: "agentStacks.builders.minSize"},
		"parameters.MaxSize":            {Key: "agentStacks.builders.minSize", Derived: "the always-on builders: MinSize and MaxSize are both agentStacks.builders.minSize"},
		"parameters.InstanceTypes":      {Key: "agentStacks.builders.instanceTypes", Derived: "the list, joined by commas"},
		"parameters.OnDemandPercentage": {Key: "agentStacks.builders.onDemandPercentage"},
	},
	"builders-burst-stack": {
		"parameters.MaxSize":                {Key: "agentStacks.builders.maxSize", Derived: "agentStacks.builders.maxSize minus agentStacks.builders.minSize"},
		"parameters.ScaleInIdlePeriod":      {Key: "agentStacks.builders.burst.scaleInIdleSeconds"},
		"parameters.OnDemandPercentage":     {Key: "agentStacks.builders.burst.onDemandPercentage"},
		"parameters.InstanceBuffer":         {Key: "agentStacks.builders.burst.instanceBuffer"},
		"parameters.ScaleUpMinSize":         {Key: "agentStacks.builders.burst.workingHours.minSize"},
		"parameters.ScaleUpSchedule":        {Key: "agentStacks.builders.burst.workingHours.start"},
		"parameters.ScaleDownSchedule":      {Key: "agentStacks.builders.burst.workingHours.end"},
		"parameters.ScheduleTimezone":       {Key: "agentStacks.builders.burst.workingHours.timezone"},
		"parameters.ScaleOutCooldownPeriod": {Key: "agentStacks.builders.burst.scaleOutCooldownSeconds"},
	},
	"deploy-agents-stack": {
		"parameters.InstanceTypes":     {Key: "agentStacks.deploy.instanceType"},
		"parameters.ScaleInIdlePeriod": {Key: "agentStacks.deploy.scaleInIdleSeconds"},
	},
	"guardrails-*-default-branch": {
		"requiredPullRequestReviews": {Key: "repositories", Derived: "the repository's requiredApprovals (at least 1) in ci-infra:repositories"},
		"requiredStatusChecks":       {Key: "repositories", Derived: "the repository's requiredChecks in ci-infra:repositories"},
	},
}

// For returns the hint for a property of the resource named resource, if
// a key sets it.
func For(resource, property string) (Hint, bool) {
	for _, pattern := range patterns() {
		if ok, _ := path.Match(pattern, resource); ok {
			h, found := table[pattern][property]
			return h, found
		}
	}
	return Hint{}, false
}

// Entries are every (resource pattern, property) the table knows, sorted:
// what the stacks test checks.
func Entries() [][2]string {
	var out [][2]string
	for _, p := range patterns() {
		for prop := range table[p] {
			out = append(out, [2]string{p, prop})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0]+" "+out[i][1] < out[j][0]+" "+out[j][1] })
	return out
}

func patterns() []string {
	var out []string
	for p := range table {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
