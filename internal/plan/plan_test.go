package plan_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/plan"
	_ "mtrlz.dev/ci-infra/internal/testkit/testenv" // registers -update for `go test ./... -update`
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

// A committed plan read back is the plan that was written, as far as the
// document shows it: the tests that read prod's committed plan rely on it.
func TestReadDocumentRoundTrips(t *testing.T) {
	written := &plan.Plan{Project: "demo", Stack: "s", Outputs: map[string]plan.Output{
		"name":  {Value: "b", Known: true},
		"token": {Value: "t", Secret: true, Known: true},
	}, Resources: []plan.Resource{{
		URN: "urn:pulumi:s::demo::aws:s3/bucketPolicy:BucketPolicy::p", Type: "aws:s3/bucketPolicy:BucketPolicy", Name: "p",
		Parent: "urn:pulumi:s::demo::pulumi:pulumi:Stack::demo-s", Protect: true, Custom: true, ImportID: "b",
		Inputs: resource.PropertyMap{
			"bucket": resource.NewStringProperty("b"),
			"nested": resource.NewObjectProperty(resource.PropertyMap{"key": resource.MakeSecret(resource.NewStringProperty("k"))}),
			"list":   resource.NewArrayProperty([]resource.PropertyValue{resource.NewNumberProperty(1)}),
		},
		PropertyDependencies: map[string][]string{"bucket": {"urn:pulumi:s::demo::aws:s3/bucketV2:BucketV2::b"}, "list": nil},
	}}}
	raw, err := json.Marshal(written.Document())
	require.NoError(t, err)

	read, err := plan.ReadDocument(raw)
	require.NoError(t, err)
	assert.Equal(t, written.Document(), read.Document())
	r, err := read.Get("aws:s3/bucketPolicy:BucketPolicy", "p")
	require.NoError(t, err)
	assert.True(t, r.Custom)
	assert.True(t, r.IsSecret("nested"), "a redacted secret comes back a secret")
	assert.Equal(t, "[secret]", r.Input("nested.key"))
	assert.Equal(t, map[string][]string{"bucket": {"urn:pulumi:s::demo::aws:s3/bucketV2:BucketV2::b"}}, r.PropertyDependencies)
	assert.True(t, read.Outputs["token"].Secret)
}
