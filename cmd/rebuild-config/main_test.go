package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

// project is a copy of Pulumi.yaml and Pulumi.prod.yaml, so that a run
// never writes into the repository.
func project(t *testing.T) string {
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.prod.yaml"} {
		raw, err := os.ReadFile(filepath.Join(testenv.Root(t), f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), raw, 0o644))
	}
	return dir
}

func rebuild(dir string, extra ...string) (int, string, string) {
	args := append([]string{"-dir", dir, "-stack", "dr", "-region", "us-west-2", "-bucket-suffix", "mtrlz-dr", "-downloads-bucket", "downloads-dr.mtrlz.dev"}, extra...)
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRebuildConfig(t *testing.T) {
	dir := project(t)
	file := filepath.Join(dir, "Pulumi.dr.yaml")

	code, stdout, stderr := rebuild(dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "ci-infra:bucketSuffix: mtrlz-dr", "without -o it prints the file")
	assert.NoFileExists(t, file)

	code, _, stderr = rebuild(dir, "-o", file)
	require.Equal(t, 0, code, stderr)
	written, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, stdout, string(written))

	code, stdout, _ = rebuild(dir, "-o", file)
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "exists and places the stack as asked: kept")

	code, _, stderr = rebuild(dir, "-o", file, "-region", "eu-west-1")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "aws:region: the file has us-west-2, the rebuild eu-west-1")
	after, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, written, after, "an existing file is never rewritten")
}

func TestRebuildConfigRefusesBadPlaces(t *testing.T) {
	dir := project(t)
	file := filepath.Join(dir, "Pulumi.dr.yaml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a region", []string{"-region", "west"}, `rebuild-config: aws:region: "west" is not an AWS region`},
		{"suffix with dots", []string{"-bucket-suffix", "mtrlz.dr"}, "rebuild-config: ci-infra:bucketSuffix:"},
		{"same stack", []string{"-stack", "prod"}, "is the stack it is rebuilt from"},
		{"unknown source", []string{"-from", "staging"}, "Pulumi.staging.yaml not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := rebuild(dir, append(tt.args, "-o", file)...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tt.want)
			assert.NoFileExists(t, file, "nothing is written")
		})
	}
}
