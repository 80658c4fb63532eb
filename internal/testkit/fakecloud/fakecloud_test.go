package fakecloud

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
	_ "mtrlz.dev/ci-infra/internal/testkit/testenv" // registers -update for `go test ./... -update`
)

var (
	prodAccount = Place{Account: cloudmodel.DefaultAccount, Region: "us-east-1"}
	drRegion    = Place{Account: cloudmodel.DefaultAccount, Region: "us-west-2"}
	otherAcct   = Place{Account: "210987654321", Region: "us-west-2"}
	github      = Place{Org: "MaterializeInc"}
)

func record(t *testing.T, typ, urn string, at Place, inputs map[string]any) Record {
	t.Helper()
	r, err := NewRecord(typ, urn, "", at, resource.NewPropertyMapFromMap(inputs))
	require.NoError(t, err)
	return r
}

func TestNamesHeldOnceAreRefused(t *testing.T) {
	const (
		stack  = "aws:cloudformation/stack:Stack"
		role   = "aws:iam/role:Role"
		bucket = "aws:s3/bucketV2:BucketV2"
	)
	tests := []struct {
		name     string
		existing Record
		wanted   Record
		refusal  string // empty: admitted
	}{
		{"a bucket name is global", record(t, bucket, "urn:a", prodAccount, map[string]any{"bucket": "b"}),
			record(t, bucket, "urn:b", otherAcct, map[string]any{"bucket": "b"}), "BucketAlreadyExists"},
		{"a bucket of one's own", record(t, bucket, "urn:a", prodAccount, map[string]any{"bucket": "b"}),
			record(t, bucket, "urn:b", drRegion, map[string]any{"bucket": "b"}), "BucketAlreadyOwnedByYou"},
		{"the template's role is named after the stack, in any region", record(t, stack, "urn:a", prodAccount, map[string]any{"name": "buildkite"}),
			record(t, stack, "urn:b", drRegion, map[string]any{"name": "buildkite"}), "IAM role buildkite-Role already exists"},
		{"a role of that name collides with a stack's", record(t, role, "urn:a", prodAccount, map[string]any{"name": "buildkite-Role"}),
			record(t, stack, "urn:b", prodAccount, map[string]any{"name": "buildkite"}), "IAM role buildkite-Role already exists"},
		{"another account may use the stack name", record(t, stack, "urn:a", prodAccount, map[string]any{"name": "buildkite"}),
			record(t, stack, "urn:b", otherAcct, map[string]any{"name": "buildkite"}), ""},
		{"one OIDC provider per issuer per account", record(t, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "urn:a", prodAccount, map[string]any{"url": "https://agent.buildkite.com"}),
			record(t, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "urn:b", drRegion, map[string]any{"url": "https://agent.buildkite.com"}), "IAM OIDC provider agent.buildkite.com already exists"},
		{"a GitHub team is the organisation's", record(t, "github:index/team:Team", "urn:a", github, map[string]any{"name": "build-authorized"}),
			record(t, "github:index/team:Team", "urn:b", github, map[string]any{"name": "Build-Authorized"}), "GitHub team MaterializeInc/build-authorized already exists"},
		{"an SSM parameter is per region", record(t, "aws:ssm/parameter:Parameter", "urn:a", prodAccount, map[string]any{"name": "/x"}),
			record(t, "aws:ssm/parameter:Parameter", "urn:b", drRegion, map[string]any{"name": "/x"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := Store{Dir: t.TempDir()}
			require.NoError(t, store.Seed(tt.existing))
			err := store.Seed(tt.wanted)
			if tt.refusal == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.refusal)
			all, err := store.Resources()
			require.NoError(t, err)
			assert.Len(t, all, 1, "a refused resource is not created")
		})
	}
}

func TestDiffReplacesOnlyWhatTheProviderCannotUpdate(t *testing.T) {
	p := NewProvider("aws", "0", t.TempDir(), "")
	tests := []struct {
		name         string
		typ          string
		olds, news   map[string]any
		wantDiffs    []string
		wantReplaces []string
	}{
		{"unchanged", "aws:s3/bucketV2:BucketV2", map[string]any{"bucket": "b"}, map[string]any{"bucket": "b"}, nil, nil},
		{"a renamed bucket is a new bucket", "aws:s3/bucketV2:BucketV2", map[string]any{"bucket": "a"}, map[string]any{"bucket": "b"}, []string{"bucket"}, []string{"bucket"}},
		{"tags change in place", "aws:s3/bucketV2:BucketV2", map[string]any{"bucket": "b", "tags": map[string]any{"a": "1"}}, map[string]any{"bucket": "b", "tags": map[string]any{"a": "2"}}, []string{"tags"}, nil},
		{"stack parameters change in place", "aws:cloudformation/stack:Stack", map[string]any{"name": "s", "parameters": map[string]any{"MaxSize": "4"}}, map[string]any{"name": "s", "parameters": map[string]any{"MaxSize": "2"}}, []string{"parameters"}, nil},
		{"a team is renamed in place", "github:index/team:Team", map[string]any{"name": "a"}, map[string]any{"name": "b"}, []string{"name"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			olds, err := marshal(resource.NewPropertyMapFromMap(tt.olds))
			require.NoError(t, err)
			news, err := marshal(resource.NewPropertyMapFromMap(tt.news))
			require.NoError(t, err)
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Type: tt.typ, OldInputs: olds, News: news})
			require.NoError(t, err)
			assert.Equal(t, tt.wantDiffs, resp.GetDiffs())
			assert.Equal(t, tt.wantReplaces, resp.GetReplaces())
			if tt.wantDiffs == nil {
				assert.Equal(t, pulumirpc.DiffResponse_DIFF_NONE, resp.GetChanges())
			}
		})
	}
}

func TestSecretsStaySecretInTheStateFile(t *testing.T) {
	store := Store{Dir: t.TempDir()}
	inputs := resource.PropertyMap{"name": resource.NewStringProperty("/token"), "value": resource.MakeSecret(resource.NewStringProperty("s3cr3t-for-test"))}
	r, err := NewRecord("aws:ssm/parameter:Parameter", "urn:a", "", prodAccount, inputs)
	require.NoError(t, err)
	require.NoError(t, store.Seed(r))
	got, ok, err := store.Find("aws:ssm/parameter:Parameter", "/token", prodAccount)
	require.NoError(t, err)
	require.True(t, ok)
	back, err := got.InputMap()
	require.NoError(t, err)
	assert.True(t, back["value"].IsSecret(), "read back as a secret")
}
