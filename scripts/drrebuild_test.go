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

var drArgs = []string{"--stack", "dr2", "--region", "us-west-2", "--bucket-suffix", "mtrlz-dr2", "--downloads-bucket", "downloads-dr2.mtrlz.dev"}

// drProject copies what dr-rebuild reads into a temporary project, with a
// prod stack file that holds an encrypted value, so a run never writes into
// the repository.
func drProject(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "scripts"), 0o755))
	src, err := os.ReadFile(filepath.Join(testenv.Root(t), "scripts", "dr-rebuild"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scripts", "dr-rebuild"), src, 0o755))
	lib, err := os.ReadFile(filepath.Join(testenv.Root(t), "scripts", "lib.sh"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scripts", "lib.sh"), lib, 0o644))
	prod, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	prod = append(prod, []byte("  ci-infra:buildkiteAgentToken:\n    secure: v1:not-real-ciphertext\n")...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.prod.yaml"), prod, 0o644))
	return dir
}

func runDR(t *testing.T, dir, stdin string, args ...string) (string, string, error) {
	env, logFile, fake := fakeTools(t)
	// Every tool only records its call: these tests check what dr-rebuild
	// refuses or prints before it calls anything.
	for _, tool := range []string{"pulumi", "aws", "go"} {
		fake(tool, "exit 0")
	}
	cmd := exec.Command(filepath.Join(dir, "scripts", "dr-rebuild"), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	calls, _ := os.ReadFile(logFile)
	return string(out), string(calls), err
}

func TestDRRebuildRefusesBadArguments(t *testing.T) {
	dir := drProject(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "Usage:"},
		{"no region", []string{"--stack", "dr2", "--bucket-suffix", "x1", "--downloads-bucket", "d.example.com"}, "Usage:"},
		{"bad region", append(append([]string{}, drArgs...), "--region", "west"), "not an AWS region"},
		{"suffix with dots", append(append([]string{}, drArgs...), "--bucket-suffix", "mtrlz.dr"), "no dots"},
		{"same stack", append(append([]string{}, drArgs...), "--stack", "prod"), "must differ"},
		{"unknown source", append(append([]string{}, drArgs...), "--from", "staging"), "Pulumi.staging.yaml not found"},
		{"unknown flag", []string{"--force"}, "unknown argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, calls, err := runDR(t, dir, "", tt.args...)
			require.Error(t, err)
			assert.Contains(t, out, tt.want)
			assert.Empty(t, calls, "nothing runs on bad arguments")
		})
	}
}

func TestDRRebuildDryRunTouchesNothing(t *testing.T) {
	dir := drProject(t)
	out, calls, err := runDR(t, dir, "", append(drArgs, "--dry-run")...)
	require.NoError(t, err, out)
	assert.Empty(t, calls, "a dry run runs no command")
	assert.NoFileExists(t, filepath.Join(dir, "Pulumi.dr2.yaml"))
	for _, want := range []string{
		"+ pulumi stack select --create dr2",
		"+ pulumi config set --stack dr2 aws:region us-west-2",
		"+ pulumi config set --stack dr2 ci-infra:bucketSuffix mtrlz-dr2",
		"+ pulumi config set --stack dr2 ci-infra:manageGitHub false",
		"+ pulumi config set --stack dr2 --path agentStacks.test.stackName buildkite-dr2",
		"+ aws iam list-open-id-connect-providers",
		"+ secrets_pulumi stack select --create dr2",
		// Which secrets, and whose: the program's table (cmd/plan -secrets),
		// which a dry run does not run.
		"+ go run ./cmd/plan -stack dr2 -secrets: for each secret it lists as needed, ask its owner",
		"+ scripts/ci-up dr2",
	} {
		assert.Contains(t, out, want)
	}
}

// The full run, against the real CLI, moto and the fake cloud, is the
// engine test internal/testkit/enginetest/drrebuild_test.go.
