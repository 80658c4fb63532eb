//go:build engine

package enginetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/components/ciaccess"
)

// formerCIAccessType is the type the CI-access component had before it took
// one name (issue 14). Production's state holds URNs with it.
const formerCIAccessType = "ci-infra:ci:PipelineAccess"

// TestRenamedComponentKeepsItsResources deploys prod, rewrites the state as
// if it had been deployed under an earlier type of the CI-access component,
// and checks that the program adopts those resources by alias instead of
// replacing the OIDC provider and the roles. A type without an alias is the
// control: the engine must then see changes, or the check could not fail.
func TestRenamedComponentKeepsItsResources(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		oldType   string
		unchanged bool
	}{
		{oldType: formerCIAccessType, unchanged: true},
		{oldType: "ci-infra:ci:NeverDeclared", unchanged: false},
	} {
		t.Run(tc.oldType, func(t *testing.T) {
			t.Parallel()
			p := NewProject(t)
			p.InitStack(t, "prod", requiredSecrets)
			p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
			before := byURN(p.Export(t, "prod"))

			state := p.MustPulumi(t, "stack", "export", "--stack", "prod")
			require.Contains(t, state, ciaccess.TypeToken)
			old := strings.ReplaceAll(state, ciaccess.TypeToken, tc.oldType)
			file := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(file, []byte(old), 0o600))
			p.MustPulumi(t, "stack", "import", "--stack", "prod", "--file", file)

			out, err := p.Pulumi("preview", "--stack", "prod", "--expect-no-changes", "--non-interactive")
			if !tc.unchanged {
				require.Error(t, err, "a type without an alias must show as changes:\n%s", out)
				assert.Contains(t, out, "to create", "the unaliased resources would be created anew")
				return
			}
			require.NoError(t, err, "the aliased rename must change nothing:\n%s", out)

			// An up moves the state to the new URNs with the same IDs.
			p.MustPulumi(t, "up", "--stack", "prod", "--yes", "--non-interactive")
			after := byURN(p.Export(t, "prod"))
			renamed := 0
			for urn, r := range before {
				got, ok := after[urn]
				if assert.True(t, ok, "%s is in the state under its current URN", urn) {
					assert.Equal(t, r.ID, got.ID, "%s keeps its ID", urn)
				}
				if strings.Contains(urn, ciaccess.TypeToken) {
					renamed++
				}
			}
			assert.GreaterOrEqual(t, renamed, 4, "the provider and the roles were under the renamed component")
			t.Logf("%d resources renamed by alias, %d in the stack", renamed, len(after))
		})
	}
}
