package stacks

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUndeclaredKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want []string // the key each error names, and the suggestion
	}{
		{"declared keys pass", []string{"ci-infra:agentStacks", "ci-infra:bucketSuffix"}, nil},
		{"other namespaces are the providers'", []string{"aws:region", "github:owner", "github:token"}, nil},
		{"a missing letter", []string{"ci-infra:agentStack"}, []string{"ci-infra:agentStack: is not a key of this project (Pulumi.yaml declares no such key); did you mean ci-infra:agentStacks?"}},
		{"a key agentStacks replaced", []string{"ci-infra:buildersMaxSize"}, []string{"ci-infra:buildersMaxSize: moved into ci-infra:agentStacks: run `pulumi config rm buildersMaxSize`, then `pulumi config set --path agentStacks.builders.maxSize <its value>`"}},
		{"a field set as a key", []string{"ci-infra:agentStacks.deploy.queue"}, []string{"ci-infra:agentStacks.deploy.queue: is a key of its own, not the field deploy.queue of ci-infra:agentStacks"}},
		{"wrong case", []string{"ci-infra:BucketSuffix"}, []string{"ci-infra:BucketSuffix: is not a key of this project (Pulumi.yaml declares no such key); did you mean ci-infra:bucketSuffix?"}},
		{"two at once, sorted", []string{"ci-infra:zz", "ci-infra:bucketSufix"}, []string{
			"ci-infra:bucketSufix: is not a key",
			"ci-infra:zz: is not a key",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := UndeclaredKeys("ci-infra", tt.keys)
			if assert.Len(t, errs, len(tt.want)) {
				for i, want := range tt.want {
					assert.Contains(t, errs[i].Error(), want)
				}
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"abc", "", 3}, {"agentmaxsize", "agentsmaxsize", 1}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, editDistance(tt.a, tt.b), "%q %q", tt.a, tt.b)
	}
}

// Every key agentStacks replaced names paths that exist, so that the
// command in its error works.
func TestEveryMovedKeyNamesAField(t *testing.T) {
	fields := objectPaths(reflect.TypeOf(AgentStacks{}))
	for key, paths := range movedKeys {
		for _, p := range paths {
			object, field, _ := strings.Cut(p, ".")
			assert.Equal(t, "agentStacks", object, key)
			assert.Contains(t, fields, field, "%s moved to a field that does not exist", key)
		}
	}
	assert.Len(t, movedKeys, 25, "the flat keys of the agent stacks before agentStacks")
}

// objectPaths lists every leaf of a config object's type by its path
// below the key ("test.maxSize", "builders.burst.workingHours.start"):
// what a stack may set with `pulumi config set --path`.
func objectPaths(t reflect.Type) []string {
	var paths []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			for _, sub := range objectPaths(f.Type) {
				paths = append(paths, name+"."+sub)
			}
			continue
		}
		paths = append(paths, name)
	}
	return paths
}
