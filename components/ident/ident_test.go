package ident

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	_ "mtrlz.dev/ci-infra/internal/testkit/testenv" // registers -update for `go test ./... -update`
)

func TestIsLogin(t *testing.T) {
	tests := map[string]bool{
		"alice": true, "Alice-Smith": true, "a": true, "a1-b2": true, strings.Repeat("a", 39): true,
		"": false, strings.Repeat("a", 40): false, "-alice": false, "alice-": false, "al--ice": false,
		"al_ice": false, "al ice": false, "alice;rm": false, "$(id)": false, "al.ice": false,
	}
	for in, want := range tests {
		assert.Equal(t, want, IsLogin(in), "%q", in)
	}
}

func TestIsTeamSlug(t *testing.T) {
	tests := map[string]bool{"build-authorized": true, "ci_1": true, "Build": false, "": false, "a b": false}
	for in, want := range tests {
		assert.Equal(t, want, IsTeamSlug(in), "%q", in)
	}
}

func TestExternalNames(t *testing.T) {
	tests := []struct {
		rule string
		is   func(string) bool
		good []string
		bad  []string
	}{
		{"branch", IsBranch, []string{"main", "release/v1.2", "feature_x-1"}, []string{"", "a b", "main;rm", "$(id)", strings.Repeat("a", 256)}},
		{"pipeline slug", IsPipelineSlug, []string{"ci-infra", "materialize", "a1"}, []string{"", "CI", "-x", "ci_infra", "ci-*", strings.Repeat("a", 101)}},
		{"queue", IsQueue, []string{"default", "builders", "deploy.v2", "a_b-c"}, []string{"", "a b", "default;rm", strings.Repeat("q", 101)}},
		{"zone ID", IsZoneID, []string{"Z0123456789ABCDEFGHIJ", "Z1"}, []string{"", "z123", "0123", "Z-1"}},
		{"cluster ID", IsClusterID, []string{"01234567-89ab-cdef-0123-456789abcdef"}, []string{"", "01234567-89AB-cdef-0123-456789abcdef", "deploy", "01234567-89ab-cdef-0123-456789abcdef\n", "no-deploy-cluster-configured"}},
	}
	for _, tt := range tests {
		for _, s := range tt.good {
			assert.True(t, tt.is(s), "%s %q", tt.rule, s)
		}
		for _, s := range tt.bad {
			assert.False(t, tt.is(s), "%s %q", tt.rule, s)
		}
	}
}

func TestValidateDomain(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"internal.mtrlz.dev", ""},
		{"a.b", ""},
		{"", "empty"},
		{"localhost", "two labels"},
		{"Internal.mtrlz.dev", "lowercase"},
		{"internal.mtrlz.dev.", "label \"\""},
		{"-bad.mtrlz.dev", "label"},
		{"bad_label.mtrlz.dev", "label"},
		{"https://mtrlz.dev", "label"},
	}
	for _, tt := range tests {
		err := ValidateDomain(tt.name)
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.name)
		} else if assert.Error(t, err, tt.name) {
			assert.Contains(t, err.Error(), tt.wantErr)
		}
	}
}
