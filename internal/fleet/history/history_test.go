package history_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/buildkite/go-buildkite/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mtrlz.dev/ci-infra/internal/fleet"
	"mtrlz.dev/ci-infra/internal/fleet/history"
)

// Two pages of an organisation's builds, as GET
// /v2/organizations/{org}/builds returns them (the JSON of go-buildkite
// v4.23.0's Build and Job): a PR build whose build step fans out to a test
// job, behind a wait step, and a main build whose deploy waits behind a
// block step; one test job retried after a spot stop; one canceled.
const page1 = `[
 {"number": 1, "state": "passed", "created_at": "2026-11-04T15:00:00Z", "jobs": [
  {"id": "b1", "type": "script", "state": "passed", "agent_query_rules": ["queue=builders"],
   "created_at": "2026-11-04T15:00:00Z", "runnable_at": "2026-11-04T15:00:01Z", "started_at": "2026-11-04T15:00:31Z", "finished_at": "2026-11-04T15:08:31Z"},
  {"id": "w1", "type": "waiter", "state": "passed"},
  {"id": "t1", "type": "script", "state": "passed", "agent_query_rules": [],
   "created_at": "2026-11-04T15:00:00Z", "runnable_at": "2026-11-04T15:08:32Z", "started_at": "2026-11-04T15:09:00Z", "finished_at": "2026-11-04T15:21:00Z",
   "retried": true, "retried_in_job_id": "t2"},
  {"id": "t2", "type": "script", "state": "passed", "agent_query_rules": ["queue=default", "os=linux"], "retry_type": "automatic",
   "created_at": "2026-11-04T15:21:01Z", "runnable_at": "2026-11-04T15:21:01Z", "started_at": "2026-11-04T15:24:01Z", "finished_at": "2026-11-04T15:36:01Z"}
 ]}]`

const page2 = `[
 {"number": 2, "state": "passed", "created_at": "2026-11-05T16:00:00Z", "jobs": [
  {"id": "m1", "type": "script", "state": "passed", "agent_query_rules": ["queue=builders"],
   "created_at": "2026-11-05T16:00:00Z", "runnable_at": "2026-11-05T16:00:00Z", "started_at": "2026-11-05T16:00:05Z", "finished_at": "2026-11-05T16:08:05Z"},
  {"id": "k1", "type": "manual", "state": "unblocked", "unblocked_at": "2026-11-05T17:00:00Z"},
  {"id": "d1", "type": "script", "state": "passed", "agent_query_rules": ["queue=default"],
   "created_at": "2026-11-05T16:00:00Z", "runnable_at": "2026-11-05T17:00:01Z", "started_at": "2026-11-05T17:00:20Z", "finished_at": "2026-11-05T17:05:20Z"},
  {"id": "c1", "type": "script", "state": "canceled", "agent_query_rules": ["queue=default"], "created_at": "2026-11-05T16:00:00Z"}
 ]}]`

func TestTheHistoryBecomesATrace(t *testing.T) {
	var createdFrom []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/organizations/acme/builds" || r.Header.Get("Authorization") != "Bearer test-token" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		createdFrom = append(createdFrom, r.URL.Query().Get("created_from"))
		assert.Equal(t, "true", r.URL.Query().Get("include_retried_jobs"))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("page") {
		case "1":
			w.Header().Set("Link", fmt.Sprintf(`<%s/v2/organizations/acme/builds?page=2>; rel="next"`, "http://"+r.Host))
			fmt.Fprint(w, page1)
		case "2":
			fmt.Fprint(w, page2)
		default:
			http.Error(w, "no such page", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	client, err := buildkite.NewOpts(buildkite.WithBaseURL(srv.URL+"/"), buildkite.WithTokenAuth("test-token"))
	require.NoError(t, err)

	since := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC) // a Wednesday
	var progress bytes.Buffer
	jobs, sum, err := history.Trace(context.Background(), client.Builds, "acme", since, &progress)
	require.NoError(t, err)
	assert.Equal(t, []string{"2026-11-04T00:00:00Z", "2026-11-04T00:00:00Z"}, createdFrom, "both pages ask from -since")
	assert.Equal(t, 2, sum.Pages)
	assert.Equal(t, 2, sum.Builds)
	assert.Equal(t, 2, sum.NotAgentJobs, "the wait and block steps")
	assert.Equal(t, 1, sum.NotRun, "the canceled job")
	assert.Contains(t, progress.String(), "acme: page 2, 2 builds, 5 jobs so far")

	// t = 0 is Monday 2026-11-02 00:00 UTC: Wednesday 15:00 is 2 days and
	// 15 hours on.
	wed := 2*86400 + 15*3600
	thu := 3*86400 + 16*3600
	want := []fleet.Job{
		{Start: wed + 1, Created: wed, Queue: "builders", Duration: 480},
		{Start: wed + 512, Created: wed, Queue: "default", Duration: 720},         // behind the build: made early
		{Start: wed + 1261, Created: wed + 1261, Queue: "default", Duration: 720}, // its automatic retry, as it ran
		{Start: thu, Created: thu, Queue: "builders", Duration: 480},
		{Start: thu + 3601, Created: thu, Queue: "default", Duration: 300}, // behind the block step
	}
	assert.Equal(t, want, jobs)

	parsed, err := fleet.ParseTrace(fleet.FormatTrace(jobs))
	require.NoError(t, err)
	assert.Equal(t, jobs, parsed, "the simulator reads what the export writes")
}

func TestTheTraceBeginsOnTheMondayBefore(t *testing.T) {
	for since, monday := range map[string]string{
		"2026-11-02T09:30:00Z": "2026-11-02T00:00:00Z", // a Monday
		"2026-11-08T23:59:00Z": "2026-11-02T00:00:00Z", // a Sunday
		"2026-11-04T00:00:00Z": "2026-11-02T00:00:00Z",
	} {
		at, err := time.Parse(time.RFC3339, since)
		require.NoError(t, err)
		assert.Equal(t, monday, history.Epoch(at).Format(time.RFC3339), since)
	}
}

func TestAnAPIErrorNamesTheOrganisationAndPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message": "Forbidden"}`, http.StatusForbidden)
	}))
	defer srv.Close()
	client, err := buildkite.NewOpts(buildkite.WithBaseURL(srv.URL+"/"), buildkite.WithTokenAuth("test-token"))
	require.NoError(t, err)
	_, _, err = history.Trace(context.Background(), client.Builds, "acme", time.Now(), &bytes.Buffer{})
	assert.ErrorContains(t, err, "listing the builds of acme (page 1)")
}
