//go:build engine

package enginetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripts/ci-up as an operator runs it: at a terminal it shows the preview
// and asks; without one it applies only with --yes.
func TestCiUpAsksAtATerminalAndNeedsYesWithout(t *testing.T) {
	t.Parallel()
	p := NewProject(t)
	p.InitStack(t, "prod", requiredSecrets)
	const prompt = "Do you want to perform this update?"

	out, err := p.Run(nil, "scripts/ci-up", "prod")
	require.Error(t, err, "no terminal and no --yes")
	assert.Contains(t, out, "ci-up: no terminal to confirm on")
	assert.Empty(t, p.Export(t, "prod"), "nothing was applied")

	out, err = p.RunOnTerminal(prompt, "\r", "scripts/ci-up", "prod")
	require.Error(t, err, "Enter takes the default answer, no")
	assert.Contains(t, out, prompt)
	assert.Contains(t, out, "confirmation declined")
	assert.Empty(t, p.Export(t, "prod"), "nothing was applied")

	// Up-arrow to "yes", then Enter.
	out, err = p.RunOnTerminal(prompt, "\x1b[A\r", "scripts/ci-up", "prod")
	require.NoError(t, err, out)
	assert.Regexp(t, `\+ \d+ created`, out)

	out, err = p.Run(nil, "scripts/ci-up", "prod", "--yes")
	require.NoError(t, err, out)
	assert.Regexp(t, `\d+ unchanged`, out)
	assert.NotContains(t, out, "created")
}
