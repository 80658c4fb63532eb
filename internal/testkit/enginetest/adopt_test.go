//go:build engine

package enginetest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
	"mtrlz.dev/ci-infra/internal/plan"
	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
	"mtrlz.dev/ci-infra/stacks"
)

// handMade is what the seed built by hand, by component of the `adopt`
// config: the buckets, the zone, both agent stacks, the agents' policy, the
// team, and an OIDC provider from an earlier attempt.
var handMade = map[string]string{
	"config":        "buildkite-config-mtrlz",
	"secrets":       "buildkite-managedsecrets-mtrlz",
	"downloads":     "downloads.mtrlz.dev",
	"internal-zone": "Z0HANDMADE0ZONE",
	"agents":        "buildkite",
	"builders":      "buildkite-builders",
	"agent-policy":  "arn:aws:iam::" + cloudmodel.DefaultAccount + ":policy/buildkite-agent",
	"trusted-team":  "4242",
	"ci-access":     "arn:aws:iam::" + cloudmodel.DefaultAccount + ":oidc-provider/agent.buildkite.com",
}

// seedHandMade configures the adoption of handMade in prod and seeds the
// fake cloud with those resources as the program declares them (edit may
// change one first). It returns the URN of each adopted resource and its ID.
func seedHandMade(t *testing.T, p *Project, edit func(typ string, r *plan.Resource)) map[string]string {
	t.Helper()
	for component, id := range handMade {
		p.MustPulumi(t, "config", "set", "--stack", "prod", "--path", "adopt."+component, id)
	}
	opts, err := plan.LoadOptions(p.Dir, "prod")
	require.NoError(t, err)
	offline, err := plan.Run(stacks.Build, opts)
	require.NoError(t, err)
	adopted := map[string]string{}
	var records []fakecloud.Record
	for _, r := range offline.Registered() {
		if r.ImportID == "" {
			continue
		}
		if edit != nil {
			edit(r.Type, &r)
		}
		at := cloudmodel.Place{Account: cloudmodel.DefaultAccount, Region: "us-east-1"}
		if strings.HasPrefix(r.Type, "github:") {
			at = cloudmodel.Place{Org: "MaterializeInc"}
		}
		rec, err := fakecloud.NewRecord(r.Type, "", r.ImportID, at, r.Inputs)
		require.NoError(t, err)
		records = append(records, rec)
		adopted[r.URN] = r.ImportID
	}
	require.Len(t, adopted, len(handMade), "every configured adoption imports one resource")
	require.NoError(t, p.Cloud.Seed(records...))
	return adopted
}

func TestAdoptionImportsHandMadeResourcesWithoutReplacing(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	adopted := seedHandMade(t, p, nil)

	out := p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	assert.Contains(t, out, "9 imported")
	assert.NotContains(t, out, "replaced")
	assert.NotContains(t, out, "deleted")
	state := byURN(p.Export(t, "prod"))
	for urn, id := range adopted {
		assert.Equal(t, id, state[urn].ID, "%s keeps the hand-made resource", urn)
	}
	cloud, err := p.Cloud.Resources()
	require.NoError(t, err)
	count := map[string]int{}
	for _, r := range cloud {
		count[r.Type]++
	}
	assert.Equal(t, 4, count["aws:s3/bucketV2:BucketV2"], "three adopted buckets and the new log bucket, no duplicate")
	assert.Equal(t, 4, count["aws:cloudformation/stack:Stack"], "the two hand-made stacks adopted; the burst builders' and the deploy agents' created")
	assert.Equal(t, 4, count["aws:iam/policy:Policy"], "the adopted agent policy, no duplicate, the publish role's boundary and the two agent boundaries")
	p.MustPulumi(t, "preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
}

// Pulumi v3.274 does not refuse an import whose inputs differ from the
// code: it imports, then updates the resource to the code in the same up
// (pkg/resource/deploy/step.go, ImportStep.Apply, and step_generator.go,
// continueStepsFromImport). The only guard is the preview, which must show
// the change, property by property, before anything is touched.
func TestAdoptionOfADifferentResourceShowsTheChangeInThePreview(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	// The hand-made builders stack runs at most 4 agents; the code says 1.
	seedHandMade(t, p, func(typ string, r *plan.Resource) {
		if r.Name == "builders-stack" {
			r.Inputs = r.Inputs.Copy()
			params := r.Inputs["parameters"].ObjectValue().Copy()
			params["MaxSize"] = newString("4")
			r.Inputs["parameters"] = newObject(params)
		}
	})
	out := p.MustPulumi(t, "preview", "--stack", "prod", "--diff", "--non-interactive")
	assert.Contains(t, out, "= 9 to import")
	assert.Contains(t, out, "~ 1 to update", "the differing adopted stack is shown as an update")
	assert.Regexp(t, `~ MaxSize\s+: "4" => "1"`, out, "with the property that differs")
	assert.Equal(t, "4", builderMaxSize(t, p), "a preview touches nothing")

	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	assert.Equal(t, "1", builderMaxSize(t, p), "up makes the adopted stack what the code says")
}

func builderMaxSize(t *testing.T, p *Project) string {
	t.Helper()
	r, ok, err := p.Cloud.Find("aws:cloudformation/stack:Stack", "buildkite-builders", cloudmodel.Place{Account: cloudmodel.DefaultAccount, Region: "us-east-1"})
	require.NoError(t, err)
	require.True(t, ok)
	inputs, err := r.InputMap()
	require.NoError(t, err)
	return inputs["parameters"].ObjectValue()["MaxSize"].StringValue()
}

func TestHandMadeResourceThatIsNotAdoptedIsRefusedByName(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	seedHandMade(t, p, nil)
	p.MustPulumi(t, "config", "rm", "--stack", "prod", "--path", "adopt.agent-policy")
	out, err := p.Pulumi("up", "--stack", "prod", "--yes", "--non-interactive")
	require.Error(t, err)
	assert.Contains(t, out, "EntityAlreadyExists: IAM policy buildkite-agent already exists")
}
