package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plantest"
)

var drArgs = []string{"--stack", "dr2", "--region", "us-west-2", "--bucket-suffix", "mtrlz-dr2", "--downloads-bucket", "downloads-dr2.mtrlz.dev"}

// drProject copies what dr-rebuild reads into a temporary project, with a
// prod stack file that holds an encrypted value, so a run never writes into
// the repository.
func drProject(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "scripts"), 0o755))
	src, err := os.ReadFile(filepath.Join(plantest.Root(t), "scripts", "dr-rebuild"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scripts", "dr-rebuild"), src, 0o755))
	prod, err := os.ReadFile(filepath.Join(plantest.Root(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	prod = append(prod, []byte("  ci-infra:buildkiteAgentToken:\n    secure: v1:not-real-ciphertext\n")...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.prod.yaml"), prod, 0o644))
	return dir
}

func runDR(t *testing.T, dir, stdin string, args ...string) (string, string, error) {
	env, logFile, fake := fakeTools(t)
	// The verification step reads stack outputs and AWS state; answer as a
	// healthy rebuild would.
	fake("pulumi", `case "$1 $2" in
  "config get") [ "$3 $4 $5" = "--stack dr2 ci-infra:internalZoneName" ] && echo internal.mtrlz.dev && exit 0; exit 1 ;;
  "stack output") echo "out-$3" ;;
  "config set") [ "$3" = --secret ] && cat >/dev/null ;;
esac
exit 0`)
	fake("aws", `case "$1" in
  route53) echo NOERROR ;;
  cloudformation) case "$*" in *AutoScalingGroupName*) echo builders-asg ;; *) echo CREATE_COMPLETE ;; esac ;;
  autoscaling) echo 1 ;;
esac`)
	fake("go", `exit 0`)
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
		"+ pulumi stack init dr2",
		"+ pulumi config set --stack dr2 aws:region us-west-2",
		"+ pulumi config set --stack dr2 ci-infra:bucketSuffix mtrlz-dr2",
		"+ pulumi config set --stack dr2 ci-infra:manageGitHub false",
		"buildkiteAgentToken: ask a Buildkite organization admin",
		"+ pulumi up --stack dr2 --policy-pack policies",
	} {
		assert.Contains(t, out, want)
	}
}

func TestDRRebuildFullRun(t *testing.T) {
	dir := drProject(t)
	keyFile := filepath.Join(dir, "agent-key-for-test")
	require.NoError(t, os.WriteFile(keyFile, []byte("not a real key\n"), 0o600))
	// The token, the key file's path, then enter for each optional secret.
	stdin := "token-for-test\n" + keyFile + "\n\n\n\n"
	out, calls, err := runDR(t, dir, stdin, append(drArgs, "--yes")...)
	require.NoError(t, err, out)

	written, err := os.ReadFile(filepath.Join(dir, "Pulumi.dr2.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(written), "ci-infra:repositories:", "the config of prod is copied")
	assert.NotContains(t, string(written), "secure:", "but not its encrypted values, which the new stack cannot read")
	assert.NotContains(t, string(written), "buildkiteAgentToken")

	for _, want := range []string{
		"pulumi stack init dr2",
		"pulumi config set --stack dr2 aws:region us-west-2",
		"pulumi config set --secret --stack dr2 buildkiteAgentToken",
		"pulumi config set --secret --stack dr2 agentSshPrivateKey",
		"go run ./scripts/plan -stack dr2",
		"pulumi preview --stack dr2 --diff --policy-pack policies",
		"pulumi up --stack dr2 --policy-pack policies --yes",
		"aws s3api head-object --region us-west-2 --bucket out-configBucketName --key bootstrap.sh",
		"aws route53 test-dns-answer --hosted-zone-id out-internalZoneId --record-name internal.mtrlz.dev",
		"aws autoscaling describe-auto-scaling-groups --region us-west-2 --auto-scaling-group-names builders-asg",
		"pulumi stack output nextSteps --stack dr2",
	} {
		assert.Contains(t, calls, want)
	}
	assert.NotContains(t, calls+out, "token-for-test", "a secret is never echoed or passed as an argument")
	assert.NotContains(t, calls, "--secret --stack dr2 webhookSecret", "skipped optional secrets are not set")
}
