package githubid

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	_ "mtrlz.dev/ci-infra/internal/testenv" // registers -update for `go test ./... -update`
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
