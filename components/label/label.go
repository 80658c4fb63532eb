// Package label owns how things are named and tagged: every logical name,
// physical name and tag set in the program comes from the functions here, so
// a naming rule or a tag is written once (the idea of cloudposse's
// terraform-null-label).
package label

import (
	"maps"
	"strings"
)

// Name joins the non-empty parts with hyphens. It is the one naming rule of
// the program: physical names ("buildkite-config" + suffix) and the logical
// names of children ("<component>-<role>") are both built with it.
func Name(parts ...string) string {
	kept := make([]string, 0, len(parts))
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "-")
}

// Base is the tag set every resource carries: which project and stack own it,
// and that it is managed by Pulumi (so nobody edits it by hand in the console).
func Base(project, stack string) map[string]string {
	return map[string]string{
		"project":    project,
		"stack":      stack,
		"managed-by": "pulumi",
	}
}

// Merge returns a new map holding every tag of every set; a later set wins
// over an earlier one. None of the inputs is modified.
func Merge(sets ...map[string]string) map[string]string {
	merged := map[string]string{}
	for _, set := range sets {
		maps.Copy(merged, set)
	}
	return merged
}
