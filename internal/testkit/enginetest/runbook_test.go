//go:build engine

package enginetest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runbookBlock returns the shell block of docs/disaster-recovery.md that
// follows the marker <!-- runbook: NAME -->, unindented.
func runbookBlock(t *testing.T, p *Project, name string) string {
	t.Helper()
	doc := p.MustRead(t, "docs/disaster-recovery.md")
	re := regexp.MustCompile("(?s)<!-- runbook: " + regexp.QuoteMeta(name) + " -->\\s*```sh\\n(.*?)\\n\\s*```")
	m := re.FindStringSubmatch(doc)
	require.NotNil(t, m, "docs/disaster-recovery.md has a runbook block %q", name)
	var lines []string
	for _, line := range strings.Split(m[1], "\n") {
		lines = append(lines, strings.TrimPrefix(line, "   "))
	}
	return strings.Join(lines, "\n")
}

// The runbook's GitHub hand-over, run as written: production's state lets
// go of the team and the branch protection rules, the rebuilt stack imports
// them, and nothing in GitHub is created twice or deleted.
func TestRunbookMovesGitHubToTheRebuiltStack(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	p.InitStack(t, "dr", requiredSecrets)
	p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
	p.MustPulumi(t, "config", "set", "--stack", "dr", "manageOidcProvider", "false")
	p.MustPulumi(t, "up", "--stack", "dr", "--yes", "--non-interactive")
	ids := map[string]string{} // URN's logical name → ID in prod
	for _, r := range p.Export(t, "prod") {
		if strings.HasPrefix(r.Type, "github:") {
			ids[resource.URN(r.URN).Name()] = r.ID
		}
	}
	require.Len(t, ids, 3, "the team and a rule for each of prod's two repositories")

	out, err := p.Run(nil, "bash", "-euo", "pipefail", "-c", runbookBlock(t, p, "forget-github"))
	require.NoError(t, err, out)
	for _, r := range p.Export(t, "prod") {
		assert.False(t, strings.HasPrefix(r.Type, "github:") || strings.Contains(r.Type, ":github:"), "prod still holds %s", r.URN)
	}

	out, err = p.Run([]byte("engine-test-github-token\n"), "bash", "-euo", "pipefail", "-c", runbookBlock(t, p, "take-github"))
	require.NoError(t, err, out)
	assert.Contains(t, out, fmt.Sprintf("= %d to import", len(ids)), "the preview shows the team and the rules as imports")
	assert.NotRegexp(t, `\+ github:index/\w+:\w+: \(create\)`, out, "nothing in GitHub is created; only the two components that hold them")
	imported := map[string]string{}
	for _, r := range p.Export(t, "dr") {
		if strings.HasPrefix(r.Type, "github:") {
			imported[resource.URN(r.URN).Name()] = r.ID
		}
	}
	assert.Equal(t, ids, imported, "dr holds the very team and rules prod made")

	cloud, err := p.Cloud.Resources()
	require.NoError(t, err)
	count := 0
	for _, r := range cloud {
		if r.Package == "github" {
			count++
		}
	}
	assert.Equal(t, len(ids), count, "the same team and rules in GitHub as before, none twice")
	p.MustPulumi(t, "preview", "--stack", "dr", "--expect-no-changes", "--non-interactive")
}
