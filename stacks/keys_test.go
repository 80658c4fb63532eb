package stacks

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUndeclaredKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want []string // the key each error names, and the suggestion
	}{
		{"declared keys pass", []string{"ci-infra:agentsMaxSize", "ci-infra:bucketSuffix"}, nil},
		{"other namespaces are the providers'", []string{"aws:region", "github:owner", "github:token"}, nil},
		{"a missing letter", []string{"ci-infra:agentMaxSize"}, []string{"ci-infra:agentMaxSize: is not a key of this project (Pulumi.yaml declares no such key); did you mean ci-infra:agentsMaxSize?"}},
		{"wrong case", []string{"ci-infra:BucketSuffix"}, []string{"ci-infra:BucketSuffix: is not a key of this project (Pulumi.yaml declares no such key); did you mean ci-infra:bucketSuffix?"}},
		{"two at once, sorted", []string{"ci-infra:zz", "ci-infra:buildersMaxSise"}, []string{
			"ci-infra:buildersMaxSise: is not a key",
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
