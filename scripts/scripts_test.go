// Package scripts holds no Go: its tests check the operator and CI shell
// scripts beside them (shellcheck, argument handling, what each one calls),
// the macOS agent setup, and that .buildkite/pipeline.yml runs them with
// the roles prod trusts.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// shellScripts lists, relative to the repository root, every shell script
// of scripts/ and agent/ (by extension or shebang) and .ci/run.
func shellScripts(t *testing.T) []string {
	t.Helper()
	root := testenv.Root(t)
	scripts := []string{".ci/run"}
	for _, dir := range []string{"scripts", "agent"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		require.NoError(t, err)
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			path := filepath.Join(dir, e.Name())
			head, err := os.ReadFile(filepath.Join(root, path))
			require.NoError(t, err)
			if strings.HasSuffix(e.Name(), ".sh") || strings.HasPrefix(string(head), "#!/usr/bin/env bash") {
				scripts = append(scripts, path)
			}
		}
	}
	return scripts
}

// TestShellcheck lints every shell script. CI installs shellcheck; a laptop
// without it skips the test.
func TestShellcheck(t *testing.T) {
	path := testenv.ShellcheckPath(t)
	scripts := shellScripts(t)
	require.GreaterOrEqual(t, len(scripts), 6)
	cmd := exec.Command(path, append([]string{"--severity=style", "--external-sources"}, scripts...)...)
	cmd.Dir = testenv.Root(t)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s", out)
}
