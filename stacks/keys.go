package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// UndeclaredKeys returns an error for each key of the project's namespace
// (project:KEY) that Config does not read, naming the closest declared key.
// Neither the CLI nor the SDK refuses such a key: a misspelt
// `ci-infra:agentMaxSize: 3` would be accepted without a word while the limit
// stayed at its default.
func UndeclaredKeys(project string, keys []string) []error {
	var declared []string
	for _, f := range Fields() {
		if !strings.Contains(f.Key, ":") {
			declared = append(declared, f.Key)
		}
	}
	var errs []error
	for _, full := range slices.Sorted(slices.Values(keys)) {
		ns, key, ok := strings.Cut(full, ":")
		if !ok || ns != project || slices.Contains(declared, key) {
			continue
		}
		if paths, moved := movedKeys[key]; moved {
			errs = append(errs, fmt.Errorf("%s: moved into %s:agentStacks: run `pulumi config rm %s`, then `pulumi config set --path %s <its value>`%s (docs/configuration.md)",
				full, project, key, paths[0], alsoSet(paths[1:])))
			continue
		}
		if object, path, ok := strings.Cut(key, "."); ok && slices.Contains(declared, object) {
			errs = append(errs, fmt.Errorf("%s: is a key of its own, not the field %s of %s:%s: run `pulumi config rm '%s'`, then `pulumi config set --path %s <value>`",
				full, path, project, object, key, key))
			continue
		}
		guess := closest(key, append(slices.Collect(maps.Keys(movedKeys)), declared...))
		if paths, moved := movedKeys[guess]; moved {
			errs = append(errs, fmt.Errorf("%s: is not a key of this project (Pulumi.yaml declares no such key); did you mean %s, now `pulumi config set --path %s <value>`? Remove it with `pulumi config rm %s`",
				full, paths[0], paths[0], full))
			continue
		}
		errs = append(errs, fmt.Errorf("%s: is not a key of this project (Pulumi.yaml declares no such key); did you mean %s:%s? Remove it with `pulumi config rm %s`",
			full, project, guess, full))
	}
	return errs
}

// movedKeys are the flat keys that agentStacks replaced, each with the
// paths that took its place: a stack file that still sets one is refused
// with the command that moves it.
var movedKeys = map[string][]string{
	"agentsStackName":                  {"agentStacks.test.stackName"},
	"agentsQueue":                      {"agentStacks.test.queue"},
	"agentsMinSize":                    {"agentStacks.test.minSize"},
	"agentsMaxSize":                    {"agentStacks.test.maxSize"},
	"agentsInstanceTypes":              {"agentStacks.test.instanceTypes"},
	"agentsScaleInIdleSeconds":         {"agentStacks.test.scaleInIdleSeconds"},
	"agentsOnDemandPercentage":         {"agentStacks.test.onDemandPercentage"},
	"agentsScaleOutForWaitingJobs":     {"agentStacks.test.scaleOutForWaitingJobs"},
	"agentsInstanceBuffer":             {"agentStacks.test.instanceBuffer"},
	"scaleOutCooldownSeconds":          {"agentStacks.test.scaleOutCooldownSeconds", "agentStacks.builders.burst.scaleOutCooldownSeconds"},
	"buildersStackName":                {"agentStacks.builders.stackName"},
	"buildersQueue":                    {"agentStacks.builders.queue"},
	"buildersMinSize":                  {"agentStacks.builders.minSize"},
	"buildersMaxSize":                  {"agentStacks.builders.maxSize"},
	"buildersInstanceTypes":            {"agentStacks.builders.instanceTypes"},
	"buildersOnDemandPercentage":       {"agentStacks.builders.onDemandPercentage"},
	"buildersBurstStackName":           {"agentStacks.builders.burst.stackName"},
	"buildersBurstOnDemandPercentage":  {"agentStacks.builders.burst.onDemandPercentage"},
	"buildersBurstInstanceBuffer":      {"agentStacks.builders.burst.instanceBuffer"},
	"buildersBurstWorkingHoursMinSize": {"agentStacks.builders.burst.workingHours.minSize"},
	"scaleUpSchedule":                  {"agentStacks.builders.burst.workingHours.start"},
	"scaleDownSchedule":                {"agentStacks.builders.burst.workingHours.end"},
	"scheduleTimezone":                 {"agentStacks.builders.burst.workingHours.timezone"},
	"deployStackName":                  {"agentStacks.deploy.stackName"},
	"deployQueue":                      {"agentStacks.deploy.queue"},
}

func alsoSet(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, " and `pulumi config set --path %s <its value>`", p)
	}
	return b.String()
}

// closest returns the candidate with the smallest edit distance to word,
// ignoring case.
func closest(word string, candidates []string) string {
	best, bestDistance := "", -1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); bestDistance < 0 || d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// keysFromEnv returns the config keys the CLI passed to the program
// (PULUMI_CONFIG, a JSON object; sdk/go/pulumi/run.go reads the same), or
// nil when the program runs without the CLI.
func keysFromEnv() ([]string, error) {
	raw := os.Getenv(pulumi.EnvConfig)
	if raw == "" {
		return nil, nil
	}
	var config map[string]any
	if err := json.Unmarshal([]byte(raw), &config); err != nil {
		return nil, fmt.Errorf("reading %s: %w", pulumi.EnvConfig, err)
	}
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	return keys, nil
}
