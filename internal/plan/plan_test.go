package plan_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	_ "mtrlz.dev/ci-infra/internal/testenv" // registers -update for `go test ./... -update`
)

const project = `name: demo
runtime: go
config:
  size:
    type: integer
    default: 3
  zones:
    type: array
    items:
      type: string
    default: [a, b]
  name:
    type: string
    default: from-schema
  token:
    type: string
    secret: true
  password:
    type: string
    secret: true
`

func TestLoadOptionsAppliesDefaultsLikeTheCLI(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(project), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.s.yaml"), []byte(
		"config:\n  aws:region: eu-west-1\n  demo:name: from-stack\n  demo:password:\n    secure: AAABAExampleCiphertext\n"), 0o644))

	opts, err := plan.LoadOptions(dir, "s")
	require.NoError(t, err)
	assert.Equal(t, "demo", opts.Project)
	assert.Equal(t, map[string]string{
		"aws:region":    "eu-west-1",
		"demo:name":     "from-stack", // the stack's value wins over the default
		"demo:size":     "3",          // defaults as the CLI passes them
		"demo:zones":    `["a","b"]`,
		"demo:token":    plan.Placeholder("demo:token"),
		"demo:password": plan.Placeholder("demo:password"),
	}, opts.Config)
	assert.Equal(t, []string{"demo:password", "demo:token"}, opts.Secrets)
	assert.Equal(t, []string{"demo:password", "demo:token"}, opts.Placeholders)
}

func TestLoadOptionsMissingProject(t *testing.T) {
	_, err := plan.LoadOptions(t.TempDir(), "prod")
	assert.ErrorContains(t, err, "Pulumi.yaml")
}
