package agent

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plantest"
)

const (
	testOrg      = "MaterializeInc"
	testTeam     = "build-authorized"
	testToken    = "test-token-not-real"
	testTokenURL = "s3://buildkite-managedsecrets-test/build-safety-github-token"
	origin       = "git@github.com:MaterializeInc/materialize.git"
)

// fakeGitHub answers team membership the way GitHub does: 200 with the
// state for members and invitees, 404 for others, case-insensitively.
func fakeGitHub(t *testing.T) *httptest.Server {
	memberships := map[string]string{"alice": "active", "pat": "pending"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		prefix := "/orgs/" + testOrg + "/teams/" + testTeam + "/memberships/"
		if !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		user := strings.ToLower(strings.TrimPrefix(r.URL.Path, prefix))
		switch user {
		case "boom":
			http.Error(w, `{"message":"Server Error"}`, http.StatusInternalServerError)
		case "slow":
			select {
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			}
		default:
			state, ok := memberships[user]
			if !ok {
				http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"url":"x","role":"member","state":"` + state + `"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hookDir writes the rendered hook and a fake aws CLI that serves the token
// from the expected S3 URL (or fails when FAKE_AWS_FAIL is set).
func hookDir(t *testing.T, apiURL string, forkBuilds bool) string {
	dir := t.TempDir()
	hook, err := RenderEnv(EnvParams{Org: testOrg, Team: testTeam, APIURL: apiURL, TokenURL: testTokenURL, ForkBuildsFromTeam: forkBuilds})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "env"), []byte(hook), 0o644))
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	fakeAWS := `#!/usr/bin/env bash
[ -z "${FAKE_AWS_FAIL:-}" ] || exit 1
[ "$1 $2 $3 $4" = "s3 cp --quiet ` + testTokenURL + `" ] || exit 1
printf '%s' '` + testToken + `'
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755))
	return dir
}

type verdict struct {
	safe   bool
	output string
}

// runHook sources the hook the way the secrets hook does (bash, allexport)
// with exactly the given build variables, then prints the environment.
func runHook(t *testing.T, dir string, vars map[string]string) verdict {
	cmd := exec.Command("bash", "-c", `set -a; source "$1"; echo HOOK-PASSED; env`, "hook", filepath.Join(dir, "env"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Join(dir, "bin") + ":/usr/bin:/bin", "HOME=" + dir}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	passed := strings.Contains(string(out), "HOOK-PASSED")
	if err == nil {
		require.True(t, passed, "hook returned 0 without passing: %s", out)
	}
	return verdict{safe: err == nil && passed, output: string(out)}
}

func pr(source, number, repo string) map[string]string {
	return map[string]string{"BUILDKITE_SOURCE": source, "BUILDKITE_PULL_REQUEST": number, "BUILDKITE_PULL_REQUEST_REPO": repo, "BUILDKITE_REPO": origin}
}

func TestBuildSafetyHook(t *testing.T) {
	api := fakeGitHub(t)
	enabled := hookDir(t, api.URL, true)
	disabled := hookDir(t, api.URL, false)

	with := func(m map[string]string, k, v string) map[string]string { m[k] = v; return m }
	without := func(m map[string]string, k string) map[string]string { delete(m, k); return m }

	tests := []struct {
		name       string
		dir        string
		vars       map[string]string
		wantSafe   bool
		wantReason string
	}{
		{"api build", enabled, map[string]string{"BUILDKITE_SOURCE": "api"}, true, ""},
		{"ui build", enabled, map[string]string{"BUILDKITE_SOURCE": "ui"}, true, ""},
		{"scheduled build", enabled, map[string]string{"BUILDKITE_SOURCE": "schedule"}, true, ""},
		{"push to an origin branch", enabled, pr("webhook", "false", ""), true, ""},
		{"pull request from an origin branch", enabled, pr("webhook", "12", "https://github.com/MaterializeInc/materialize.git"), true, ""},
		{"origin pull request, URL forms differ", enabled, pr("webhook", "12", "git://github.com/materializeinc/materialize"), true, ""},
		{"fork of an active member", enabled, pr("webhook", "13", "https://github.com/alice/materialize.git"), true, ""},
		{"fork owner differs only in case", enabled, pr("webhook", "13", "https://github.com/ALICE/materialize.git"), true, ""},
		{"fork URL git://", enabled, pr("webhook", "13", "git://github.com/alice/materialize.git"), true, ""},
		{"fork URL git@", enabled, pr("webhook", "13", "git@github.com:alice/materialize.git"), true, ""},
		{"fork of a pending member", enabled, pr("webhook", "14", "https://github.com/pat/materialize.git"), false, "pat is not an active member"},
		{"fork of a non-member", enabled, pr("webhook", "15", "https://github.com/mallory/materialize.git"), false, "mallory is not an active member"},
		{"GitHub answers 500", enabled, pr("webhook", "16", "https://github.com/boom/materialize.git"), false, "could not ask GitHub"},
		{"GitHub times out", enabled, pr("webhook", "17", "https://github.com/slow/materialize.git"), false, "could not ask GitHub"},
		{"token cannot be read", enabled, with(pr("webhook", "13", "https://github.com/alice/materialize.git"), "FAKE_AWS_FAIL", "1"), false, "could not ask GitHub"},
		{"fork builds disabled", disabled, pr("webhook", "13", "https://github.com/alice/materialize.git"), false, "fork builds are disabled"},
		{"trigger step, origin push", enabled, pr("trigger_job", "false", ""), true, ""},
		{"trigger step, fork of a non-member", enabled, pr("trigger_job", "15", "https://github.com/mallory/materialize.git"), false, "not an active member"},
		{"no source", enabled, without(pr("webhook", "false", ""), "BUILDKITE_SOURCE"), false, "BUILDKITE_SOURCE is not set"},
		{"unknown source", enabled, pr("carrier-pigeon", "false", ""), false, "unknown build source"},
		{"no pull request variable", enabled, without(pr("webhook", "false", ""), "BUILDKITE_PULL_REQUEST"), false, "BUILDKITE_PULL_REQUEST is not set"},
		{"malformed pull request number", enabled, pr("webhook", "12; true", ""), false, "not a pull request number"},
		{"pull request without its repository", enabled, pr("webhook", "12", ""), false, "BUILDKITE_PULL_REQUEST_REPO"},
		{"origin is not GitHub", enabled, with(pr("webhook", "12", "https://github.com/alice/materialize.git"), "BUILDKITE_REPO", "https://gitlab.com/x/y.git"), false, "BUILDKITE_REPO"},
		{"fork on another host", enabled, pr("webhook", "12", "https://evil.example/alice/materialize.git"), false, "BUILDKITE_PULL_REQUEST_REPO"},
		{"owner with command substitution", enabled, pr("webhook", "12", "https://github.com/$(touch pwned)/materialize.git"), false, "BUILDKITE_PULL_REQUEST_REPO"},
		{"owner with backticks and semicolon", enabled, pr("webhook", "12", "https://github.com/`id`;alice/materialize.git"), false, "BUILDKITE_PULL_REQUEST_REPO"},
		{"owner with path traversal", enabled, pr("webhook", "12", "https://github.com/../../orgs/x/materialize.git"), false, "BUILDKITE_PULL_REQUEST_REPO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := runHook(t, tt.dir, tt.vars)
			assert.Equal(t, tt.wantSafe, got.safe, got.output)
			if !tt.wantSafe {
				assert.Contains(t, got.output, tt.wantReason)
				assert.Contains(t, got.output, "Rebuild in the Buildkite UI", "the refusal says how to proceed")
			}
			assert.NotContains(t, got.output, testToken, "the token is never printed or exported")
			assert.NotContains(t, got.output, "github_org=", "the hook's variables do not leak into the build")
			_, err := os.Stat(filepath.Join(tt.dir, "pwned"))
			assert.True(t, os.IsNotExist(err), "no input is executed")
		})
	}
}

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
	path := plantest.ShellcheckPath(t)
	hook, err := RenderEnv(EnvParams{Org: testOrg, Team: testTeam, APIURL: "https://api.github.com", TokenURL: testTokenURL, ForkBuildsFromTeam: true})
	require.NoError(t, err)
	cmd := exec.Command(path, "--shell=bash", "--severity=style", "-")
	cmd.Stdin = strings.NewReader(hook)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s", out)
}
