package scripts

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plantest"
)

func TestBootstrapIsIdempotent(t *testing.T) {
	me, err := user.Current()
	require.NoError(t, err)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	cfg := filepath.Join(dir, "buildkite-agent.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte("name=agent-%n\ngit-clean-flags=-ffxdq\n"), 0o644))

	for run := 1; run <= 2; run++ {
		cmd := exec.Command("bash", "bootstrap.sh")
		cmd.Env = append(os.Environ(), "AGENT_USER="+me.Username, "AGENT_HOME="+home, "AGENT_CONFIG="+cfg)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "run %d: %s", run, out)
	}
	for _, d := range []string{".cache/sccache", ".cargo"} {
		info, err := os.Stat(filepath.Join(home, d))
		require.NoError(t, err)
		assert.True(t, info.IsDir())
	}
	got, err := os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(got), "git-clean-flags="), "set once, however often it runs")
	assert.Contains(t, string(got), "git-clean-flags=-ffdq\n", "ignored build caches survive a checkout")
	assert.Contains(t, string(got), "name=agent-%n\n", "other settings are kept")
}

func TestEmbeddedBootstrapIsTheFile(t *testing.T) {
	raw, err := os.ReadFile("bootstrap.sh")
	require.NoError(t, err)
	assert.Equal(t, string(raw), Bootstrap)
}

// shellcheckPath finds shellcheck. CI installs it and fails without it; a
// laptop without it skips the lint.
func shellcheckPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("shellcheck is not installed; .ci/run must install it")
		}
		t.Skip("shellcheck not installed")
	}
	return path
}

// shellScripts lists, relative to the repository root, every shell script
// of scripts/ (by extension or shebang) and .ci/run.
func shellScripts(t *testing.T) []string {
	t.Helper()
	root := plantest.Root(t)
	entries, err := os.ReadDir(filepath.Join(root, "scripts"))
	require.NoError(t, err)
	scripts := []string{".ci/run"}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		path := filepath.Join("scripts", e.Name())
		head, err := os.ReadFile(filepath.Join(root, path))
		require.NoError(t, err)
		if strings.HasSuffix(e.Name(), ".sh") || strings.HasPrefix(string(head), "#!/usr/bin/env bash") {
			scripts = append(scripts, path)
		}
	}
	return scripts
}

// TestShellcheck lints every shell script. CI installs shellcheck; a laptop
// without it skips the test.
func TestShellcheck(t *testing.T) {
	path := shellcheckPath(t)
	scripts := shellScripts(t)
	require.GreaterOrEqual(t, len(scripts), 6)
	cmd := exec.Command(path, append([]string{"--severity=style", "--external-sources"}, scripts...)...)
	cmd.Dir = plantest.Root(t)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s", out)
}
