//go:build engine

package enginetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
)

// The preview role holds an allow-list of what a refresh of the main stack
// reads (issue 28), not ReadOnlyAccess. Through the real CLI: prod's
// preview with --refresh succeeds with the credentials of the preview role
// the program deployed, each read checked against that role's policies as
// they are in the fake cloud (fakecloud.EnvRole); with another role's, or
// with one read taken out of its grant, the same refresh is refused.
func TestThePreviewRoleRefreshesProdAndReadsNothingMore(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	p.MustPulumi(t, "config", "set", "--stack", "prod", "stateBackendUrl", "s3://ci-infra-state-engine-test/ci")
	p.Up(t, "prod")

	as := func(role string) (string, error) {
		return p.Run(nil, "env", fakecloud.EnvRole+"="+role,
			"pulumi", "preview", "--refresh", "--stack", "prod", "--expect-no-changes", "--non-interactive")
	}
	out, err := as("ci-infra-prod-preview")
	require.NoError(t, err, "the preview role refreshes and previews prod:\n%s", out)

	// The publish role reads the downloads bucket and nothing else.
	out, err = as("ci-infra-prod-publish")
	require.Error(t, err)
	assert.Contains(t, out, "AccessDenied")

	// The grant as deployed, with the object reads taken out: the refresh
	// of the bootstrap script is refused, so the check above is live.
	cloud, err := p.Cloud.Resources()
	require.NoError(t, err)
	var reads fakecloud.Record
	for _, r := range cloud {
		in, err := r.InputMap()
		require.NoError(t, err)
		if r.Type == "aws:iam/rolePolicy:RolePolicy" && in["role"].StringValue() == "ci-infra-prod-preview" && strings.Contains(in["policy"].StringValue(), "ReadOwnObjects") {
			var doc struct {
				Version   string
				Statement []map[string]any
			}
			require.NoError(t, json.Unmarshal([]byte(in["policy"].StringValue()), &doc))
			kept := doc.Statement[:0]
			for _, st := range doc.Statement {
				if st["Sid"] != "ReadOwnObjects" {
					kept = append(kept, st)
				}
			}
			doc.Statement = kept
			raw, err := json.Marshal(doc)
			require.NoError(t, err)
			in["policy"] = resource.NewStringProperty(string(raw))
			reads, err = fakecloud.NewRecord(r.Type, r.URN, r.ID, r.Place, in)
			require.NoError(t, err)
		}
	}
	require.NotEmpty(t, reads.ID, "the preview role's grant is deployed")
	require.NoError(t, p.Cloud.Replace(reads))
	out, err = as("ci-infra-prod-preview")
	require.Error(t, err)
	assert.Contains(t, out, "AccessDenied: s3:GetObject on arn:aws:s3:::buildkite-config-mtrlz/bootstrap.sh is not allowed to this role")
}
