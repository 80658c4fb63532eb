package previewreport_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/previewreport"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
)

func digest(t *testing.T, name string) previewreport.Digest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	require.NoError(t, err)
	d, err := previewreport.Parse(raw)
	require.NoError(t, err)
	return d
}

// A pull request's preview: the summary an operator reads, kept as golden
// files (go test ./internal/previewreport -update), and the verdict: only
// a protected resource replaced or deleted, planned or refused, fails it.
func TestPreview(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		ok     bool
	}{
		"update":    {0, true},
		"protected": {255, false},
	} {
		t.Run(name, func(t *testing.T) {
			md, ok := previewreport.Preview(digest(t, name), "prod", tc.status)
			assert.Equal(t, tc.ok, ok)
			testenv.GoldenFile(t, filepath.Join("testdata", name+".preview.md"), []byte(md))
		})
	}
}

func hint(resource, property string) (string, string, bool) {
	if resource == "agents-stack" && property == "parameters.MaxSize" {
		return "agentStacks.test.maxSize", "", true
	}
	if resource == "guardrails-materialize-default-branch" && property == "requiredPullRequestReviews" {
		return "repositories", "the repository's requiredApprovals", true
	}
	return "", "", false
}

// The drift check: each drifted resource with the code's value and the
// account's (a secret as [secret]), what up would do, and the key that
// keeps the account's value; the verdict 0, 1 or 2, with why it could not
// tell.
func TestDrift(t *testing.T) {
	for name, tc := range map[string]struct {
		status, verdict int
	}{
		"drift":         {255, previewreport.Drifted},
		"nodrift":       {0, previewreport.NoDrift},
		"locked":        {255, previewreport.Uncertain},
		"nocredentials": {255, previewreport.Uncertain},
	} {
		t.Run(name, func(t *testing.T) {
			md, verdict := previewreport.Drift(digest(t, name), "prod", tc.status, hint)
			assert.Equal(t, tc.verdict, verdict)
			testenv.GoldenFile(t, filepath.Join("testdata", name+".drift.md"), []byte(md))
		})
	}
	md, _ := previewreport.Drift(digest(t, "drift"), "prod", 255, hint)
	assert.NotContains(t, md, `"x"`, "no secret value reaches the report")
	assert.Contains(t, md, "[secret]")
	assert.Contains(t, md, "`pulumi config set --path agentStacks.test.maxSize 9 --stack prod`")
	assert.Contains(t, md, "requiredPullRequestReviews[0].requiredApprovingReviewCount: code 1, account 0; to keep the account's, change ci-infra:repositories",
		"a nested property finds the hint of the property that holds it")
}
