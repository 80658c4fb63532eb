package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/testkit/testenv"
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
	code := run([]string{"-stack", "prod", "-dir", testenv.Root(t), "-compare", candidates, "-trace", "bursty", "-out", out,
		"-sweep-boot", "180,300", "-sweep-seeds", "1"}, &stdout, &stderr)
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
	assert.Equal(t, 6, doc.Rows[0].Runs, "2 boots x 1 seed x 3 spot ratios")
	assert.Contains(t, doc.Rows[0].WorstRun, "boot 300 s", "the slower boot is the worst case")
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

// The comparison the README shows is the one the code makes: its
// candidates are docs/fleet/candidates.json's, and prod's row equals a
// fresh sweep of prod over every shipped trace (the other rows take
// minutes: rerun the README's command when a candidate changes).
func TestTheREADMEsComparisonIsCurrent(t *testing.T) {
	root := testenv.Root(t)
	var committed struct{ Rows []Row }
	raw, err := os.ReadFile(filepath.Join(root, "docs", "fleet", "compare.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &committed))
	cs, err := readCandidates(filepath.Join(root, "docs", "fleet", "candidates.json"))
	require.NoError(t, err)
	require.Len(t, committed.Rows, len(cs), "rerun the README's cmd/fleet -compare command and commit docs/fleet")
	var prod Row
	for i, c := range cs {
		assert.Equal(t, c.Name, committed.Rows[i].Name)
		if c.Name == "chosen (prod)" {
			prod = committed.Rows[i]
		}
	}
	require.Equal(t, "chosen (prod)", prod.Name)

	dir := t.TempDir()
	only := filepath.Join(dir, "prod.json")
	require.NoError(t, os.WriteFile(only, []byte(`[{"name": "chosen (prod)", "set": {}}]`), 0o644))
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-stack", "prod", "-dir", root, "-compare", only, "-out", filepath.Join(dir, "x")}, &stdout, &stderr), stderr.String())
	var fresh struct{ Rows []Row }
	raw, err = os.ReadFile(filepath.Join(dir, "x.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &fresh))
	assert.Equal(t, prod.Outcome, fresh.Rows[0].Outcome, "rerun the README's cmd/fleet -compare command and commit docs/fleet")
}

// -from-buildkite reads the organisation's builds from the REST API (here
// a local fake of it) and writes a trace the simulator then replays.
func TestFromBuildkiteWritesATraceTheSimulatorReads(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/organizations/acme/builds" || r.Header.Get("Authorization") != "Bearer test-token" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		now := time.Now().UTC()
		at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
		fmt.Fprintf(w, `[{"number": 1, "jobs": [
			{"type": "script", "agent_query_rules": ["queue=builders"], "created_at": %q, "runnable_at": %q, "started_at": %q, "finished_at": %q},
			{"type": "manual"},
			{"type": "script", "agent_query_rules": ["queue=default"], "created_at": %q, "runnable_at": %q, "started_at": %q, "finished_at": %q}]}]`,
			at(3*time.Hour), at(3*time.Hour), at(170*time.Minute), at(160*time.Minute),
			at(3*time.Hour), at(time.Hour), at(59*time.Minute), at(50*time.Minute))
	}))
	defer srv.Close()
	t.Setenv(tokenVariable, "test-token")
	out := filepath.Join(t.TempDir(), "mine.csv")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-from-buildkite", "acme", "-since", "1d", "-api", srv.URL + "/", "-o", out}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stderr.String(), "acme: page 1, 1 builds, 2 jobs so far")
	assert.Contains(t, stderr.String(), "left out: 1 wait, block and trigger steps")
	t.Logf("-from-buildkite against the fake API:\n%s", stderr.String())

	stdout.Reset()
	require.Equal(t, 0, run([]string{"-stack", "prod", "-dir", testenv.Root(t), "-trace", out}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "over 2 jobs")

	t.Setenv(tokenVariable, "")
	assert.Equal(t, 1, run([]string{"-from-buildkite", "acme", "-api", srv.URL + "/"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), tokenVariable)
	assert.Equal(t, 1, run([]string{"-from-buildkite", "acme", "-since", "soon"}, &stdout, &stderr))
}
