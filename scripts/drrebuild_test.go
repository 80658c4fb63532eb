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
	return runDRWith(t, dir, "exit 0", stdin, args...)
}

// runDRWith is runDR with goBody as the stand-in for go: every tool only
// records its call, so these tests check what dr-rebuild refuses, prints
// and calls, and in which order.
func runDRWith(t *testing.T, dir, goBody, stdin string, args ...string) (string, string, error) {
	env, logFile, fake := fakeTools(t)
	for _, tool := range []string{"pulumi", "aws"} {
		fake(tool, "exit 0")
	}
	fake("go", goBody)
	cmd := exec.Command(filepath.Join(dir, "scripts", "dr-rebuild"), args...)
	cmd.Env = append(env, "CI_INFRA_SECRETS_PASSPHRASE=not-a-real-passphrase")
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

// The places are checked in Go (cmd/rebuild-config, whose own tests hold
// each rule) before anything else: when it refuses, nothing runs after it.
func TestDRRebuildStopsWhereTheProgramRefusesThePlaces(t *testing.T) {
	dir := drProject(t)
	out, calls, err := runDRWith(t, dir, `echo "rebuild-config: aws:region: \"west\" is not an AWS region" >&2; exit 2`, "", drArgs...)
	require.Error(t, err)
	assert.Contains(t, out, `rebuild-config: aws:region: "west" is not an AWS region`)
	lines := strings.Split(strings.TrimSpace(calls), "\n")
	require.Len(t, lines, 1, "only the check ran:\n%s", calls)
	assert.Equal(t, "go run ./cmd/rebuild-config -from prod -stack dr2 -region us-west-2 -bucket-suffix mtrlz-dr2 -downloads-bucket downloads-dr2.mtrlz.dev -o Pulumi.dr2.yaml", lines[0])
}

func TestDRRebuildDryRunTouchesNothing(t *testing.T) {
	dir := drProject(t)
	out, calls, err := runDR(t, dir, "", append(drArgs, "--dry-run")...)
	require.NoError(t, err, out)
	assert.Equal(t, "go run ./cmd/rebuild-config -from prod -stack dr2 -region us-west-2 -bucket-suffix mtrlz-dr2 -downloads-bucket downloads-dr2.mtrlz.dev\n", calls,
		"a dry run runs one command, which prints the stack file it would write")
	assert.NoFileExists(t, filepath.Join(dir, "Pulumi.dr2.yaml"))
	for _, want := range []string{
		"+ go run ./cmd/rebuild-config -from prod -stack dr2 -region us-west-2 -bucket-suffix mtrlz-dr2 -downloads-bucket downloads-dr2.mtrlz.dev -o Pulumi.dr2.yaml, which writes:",
		"+ pulumi stack select --create dr2",
		"+ aws iam list-open-id-connect-providers",
		"+ secrets_pulumi stack select --create dr2",
		// Which secrets, and whose: the program's table (cmd/plan -secrets),
		// which a dry run does not run.
		"+ go run ./cmd/plan -stack dr2 -secrets: for each secret it lists as needed, ask its owner",
		"+ scripts/ci-up dr2",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "pulumi config set --stack dr2 aws:region", "the places are the stack file's, written in Go")
}

// The full run, against the real CLI, moto and the fake cloud, is the
// engine test internal/testkit/enginetest/drrebuild_test.go.
