package agent

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

const (
	testOrg      = "MaterializeInc"
	testTeam     = "build-authorized"
	testToken    = "test-token-not-real"
	testTokenURL = "s3://buildkite-managedsecrets-test/build-safety-github-token"
	origin       = "git@github.com:MaterializeInc/materialize.git"
)

func TestRenderEnvRejectsUnsafeValues(t *testing.T) {
	good := EnvParams{Org: testOrg, Team: testTeam, APIURL: "https://api.github.com", TokenURL: testTokenURL}
	tests := []struct {
		name string
		edit func(*EnvParams)
	}{
		{"org with quote", func(p *EnvParams) { p.Org = "evil'org" }},
		{"org too long", func(p *EnvParams) { p.Org = strings.Repeat("a", 40) }},
		{"team with space", func(p *EnvParams) { p.Team = "build authorized" }},
		{"api over http", func(p *EnvParams) { p.APIURL = "http://api.github.com" }},
		{"api with trailing slash", func(p *EnvParams) { p.APIURL = "https://api.github.com/" }},
		{"token not s3", func(p *EnvParams) { p.TokenURL = "https://example.com/token" }},
		{"calls longer than the gate", func(p *EnvParams) { p.GateSeconds, p.CallSeconds = 10, 5 }},
		{"gate unbounded", func(p *EnvParams) { p.GateSeconds = 3600 }},
	}
	_, err := RenderEnv(good)
	require.NoError(t, err)
	for _, tt := range tests {
		p := good
		tt.edit(&p)
		_, err := RenderEnv(p)
		assert.Error(t, err, tt.name)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"a": "'a'", "it's": `'it'\''s'`, "$(x)": "'$(x)'", "": "''"} {
		assert.Equal(t, want, ShellQuote(in))
	}
}

func TestRenderedHookPassesShellcheck(t *testing.T) {
	path := testenv.ShellcheckPath(t)
	hook, err := RenderEnv(EnvParams{Org: testOrg, Team: testTeam, APIURL: "https://api.github.com", TokenURL: testTokenURL, ForkBuildsFromTeam: true})
	require.NoError(t, err)
	cmd := exec.Command(path, "--shell=bash", "--severity=style", "-")
	cmd.Stdin = strings.NewReader(hook)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s", out)
}
