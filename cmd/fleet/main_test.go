package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testenv"
)

// -compare replays each candidate and writes one table three ways: text,
// JSON and a chart with a point per candidate. The first candidate is the
// baseline of the cost ratio; a candidate no other beats on both cost and
// wait is on the frontier.
func TestCompareWritesTheTableAsTextJSONAndChart(t *testing.T) {
	dir := t.TempDir()
	candidates := filepath.Join(dir, "candidates.json")
	require.NoError(t, os.WriteFile(candidates, []byte(`[
		{"name": "prod", "set": {}},
		{"name": "on demand", "set": {"buildkite.OnDemandPercentage": "100"}},
		{"name": "ten agents", "set": {"buildkite.MaxSize": "10"}}]`), 0o644))
	out := filepath.Join(dir, "cmp")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "prod", "-dir", testenv.Root(t), "-compare", candidates, "-trace", "bursty", "-out", out}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	for _, name := range []string{"prod", "on demand", "ten agents"} {
		assert.Contains(t, stdout.String(), name)
	}

	var doc struct{ Rows []Row }
	raw, err := os.ReadFile(out + ".json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.Rows, 3)
	assert.Equal(t, 1.0, doc.Rows[0].CostRatio)
	assert.Greater(t, doc.Rows[1].CostRatio, 1.0, "on demand costs more than spot")
	assert.Greater(t, doc.Rows[2].WorstWorkingP95, doc.Rows[0].WorstWorkingP95, "ten agents wait longer on Mondays")
	onFrontier := map[string]bool{}
	for _, r := range frontier(doc.Rows) {
		onFrontier[r.Name] = true
	}
	assert.False(t, onFrontier["on demand"], "dearer and no faster than prod")
	assert.True(t, onFrontier["prod"])

	svg, err := os.ReadFile(out + ".svg")
	require.NoError(t, err)
	assert.NoError(t, xml.Unmarshal(svg, new(struct{})), "well-formed SVG")
	assert.Equal(t, 3, strings.Count(string(svg), "<circle"), "a point per candidate")
}

func TestCompareRefusesAnUnknownParameter(t *testing.T) {
	dir := t.TempDir()
	candidates := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(candidates, []byte(`[{"name": "typo", "set": {"buildkite.MaxSise": "3"}}]`), 0o644))
	var stdout, stderr bytes.Buffer
	code := run([]string{"-stack", "prod", "-dir", testenv.Root(t), "-compare", candidates, "-out", filepath.Join(dir, "x")}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "buildkite.MaxSise")
}

// The comparison the README shows is the one the code makes: docs/fleet's
// JSON equals a fresh run of the README's commands.
func TestTheREADMEsComparisonIsCurrent(t *testing.T) {
	root := testenv.Root(t)
	for _, trace := range []string{"sample", "bursty"} {
		t.Run(trace, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), trace)
			args := []string{"-stack", "prod", "-dir", root, "-compare", filepath.Join(root, "docs", "fleet", "candidates.json"), "-out", out}
			if trace == "bursty" {
				args = append(args, "-trace", "bursty")
			}
			var stdout, stderr bytes.Buffer
			require.Equal(t, 0, run(args, &stdout, &stderr), stderr.String())
			got, err := os.ReadFile(out + ".json")
			require.NoError(t, err)
			want, err := os.ReadFile(filepath.Join(root, "docs", "fleet", trace+".json"))
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got), "rerun the README's cmd/fleet -compare commands (\"What it costs\") and commit docs/fleet")
		})
	}
}
