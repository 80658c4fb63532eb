package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	_ "mtrlz.dev/ci-infra/internal/testkit/testenv" // registers -update
)

// The exit status is the verdict a pipeline step takes: a preview fails
// only on a protected loss; a drift check says 0, 1 or 2, and 2 when the
// preview printed nothing readable.
func TestTheExitStatusIsTheVerdict(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	drifted := write("drifted.json", `{"steps":[{"op":"update","urn":"urn:pulumi:prod::ci-infra::ci-infra:buildkite:AgentStack$aws:cloudformation/stack:Stack::agents-stack","diffReasons":["parameters"],`+
		`"oldState":{"inputs":{"parameters":{"MaxSize":"9"}}},"newState":{"inputs":{"parameters":{"MaxSize":"40"}}}}]}`)
	clean := write("clean.json", `{"steps":[{"op":"same","urn":"urn:pulumi:prod::ci-infra::pulumi:pulumi:Stack::ci-infra-prod"}]}`)
	empty := write("empty.json", "")
	for name, tc := range map[string]struct {
		args []string
		want int
		says string
	}{
		"a drift":                   {[]string{"-drift", "-status", "255", drifted}, 1, "`pulumi config set --path agentStacks.test.maxSize 9 --stack prod`"},
		"no drift":                  {[]string{"-drift", clean}, 0, "No drift in prod"},
		"nothing printed":           {[]string{"-drift", "-status", "255", empty}, 2, "could not be read"},
		"a preview with a change":   {[]string{drifted}, 0, "1 to change"},
		"a preview printed nothing": {[]string{"-status", "255", empty}, 1, "could not be read"},
		"no file":                   {nil, 2, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tc.want, run(tc.args, &stdout, &stderr))
			assert.Contains(t, stdout.String(), tc.says)
		})
	}
}
