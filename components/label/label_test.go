package label

import (
	"testing"

	"github.com/stretchr/testify/assert"

	_ "mtrlz.dev/ci-infra/internal/testkit/testenv" // registers -update for `go test ./... -update`
)

func TestName(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{"buildkite-config", "mtrlz"}, "buildkite-config-mtrlz"},
		{[]string{"config", "bucket"}, "config-bucket"},
		{[]string{"buildkite-agent", ""}, "buildkite-agent"},
		{[]string{"", "a", "", "b"}, "a-b"},
		{nil, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Name(tt.parts...), "Name(%q)", tt.parts)
	}
}

func TestMerge(t *testing.T) {
	base := Base("ci-infra", "prod")
	tests := []struct {
		name string
		sets []map[string]string
		want map[string]string
	}{
		{"base only", []map[string]string{base}, map[string]string{"project": "ci-infra", "stack": "prod", "managed-by": "pulumi"}},
		{"extra tag added", []map[string]string{base, {"role": "agents"}}, map[string]string{"project": "ci-infra", "stack": "prod", "managed-by": "pulumi", "role": "agents"}},
		{"later set wins", []map[string]string{base, {"stack": "dr"}}, map[string]string{"project": "ci-infra", "stack": "dr", "managed-by": "pulumi"}},
		{"nil sets ignored", []map[string]string{nil, {"a": "1"}, nil}, map[string]string{"a": "1"}},
		{"nothing", nil, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Merge(tt.sets...))
		})
	}
}

func TestMergeDoesNotModifyInputs(t *testing.T) {
	base := Base("ci-infra", "prod")
	_ = Merge(base, map[string]string{"stack": "other", "x": "y"})
	assert.Equal(t, Base("ci-infra", "prod"), base)
}
