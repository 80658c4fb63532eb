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
	Key string // without the project's namespace
	// Derived, when set, says how the property follows from the key (it
	// is not the key's value itself).
	Derived string
}

// table maps a resource's logical name (a path.Match pattern) and a
// property's dotted path to its hint.
var table = map[string]map[string]Hint{
	"agents-stack": {
		"parameters.MinSize":                {Key: "agentsMinSize"},
		"parameters.MaxSize":                {Key: "agentsMaxSize"},
		"parameters.InstanceTypes":          {Key: "agentsInstanceTypes", Derived: "the list, joined by commas"},
		"parameters.ScaleInIdlePeriod":      {Key: "agentsScaleInIdleSeconds"},
		"parameters.OnDemandPercentage":     {Key: "agentsOnDemandPercentage"},
		"parameters.InstanceBuffer":         {Key: "agentsInstanceBuffer"},
		"parameters.ScaleOutForWaitingJobs": {Key: "agentsScaleOutForWaitingJobs"},
		"parameters.ScaleOutCooldownPeriod": {Key: "scaleOutCooldownSeconds"},
	},
	"builders-stack": {
		"parameters.MinSize":            {Key: "buildersMinSize"},
		"parameters.MaxSize":            {Key: "buildersMinSize", Derived: "the always-on builders: MinSize and MaxSize are both buildersMinSize"},
		"parameters.InstanceTypes":      {Key: "buildersInstanceTypes", Derived: "the list, joined by commas"},
		"parameters.OnDemandPercentage": {Key: "buildersOnDemandPercentage"},
	},
	"builders-burst-stack": {
		"parameters.MaxSize":                {Key: "buildersMaxSize", Derived: "buildersMaxSize minus buildersMinSize"},
		"parameters.OnDemandPercentage":     {Key: "buildersBurstOnDemandPercentage"},
		"parameters.InstanceBuffer":         {Key: "buildersBurstInstanceBuffer"},
		"parameters.ScaleUpMinSize":         {Key: "buildersBurstWorkingHoursMinSize"},
		"parameters.ScaleUpSchedule":        {Key: "scaleUpSchedule"},
		"parameters.ScaleDownSchedule":      {Key: "scaleDownSchedule"},
		"parameters.ScheduleTimezone":       {Key: "scheduleTimezone"},
		"parameters.ScaleOutCooldownPeriod": {Key: "scaleOutCooldownSeconds"},
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
