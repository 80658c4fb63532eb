package fleet

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// SampleCSV is the sample trace the repository ships (sample-trace.csv),
// written by SampleTrace; a test keeps the two equal.
//
//go:embed sample-trace.csv
var SampleCSV string

// The sample trace's shape. These are assumptions drawn from the seed, not
// measurements: PR builds through the working day of a team in New York
// (14:00 to 23:00 UTC, Monday to Friday), each one `cargo build` on the
// builders queue (a warm build of first-party crates: 8 minutes) that then
// fans out to test jobs on the default queue (8 jobs of 12 minutes, run from
// the Docker images the build pushed); a nightly build every day, and quiet
// weekends. Replace it with a trace exported from Buildkite to decide with
// real numbers.
const (
	sampleDays          = 28
	buildsPerWorkingDay = 24
	buildSeconds        = 8 * 60
	testJobsPerBuild    = 8
	testJobSeconds      = 12 * 60
	workdayStart        = 14 * 3600
	workdayLength       = 9 * 3600
	nightlyAt           = 5 * 3600
)

// SampleTrace writes the sample trace: day 0 is a Monday.
func SampleTrace() []Job {
	var jobs []Job
	build := func(at int) {
		jobs = append(jobs, Job{Start: at, Queue: "builders", Duration: buildSeconds, Created: at})
		// The test jobs exist from the build's start, waiting on it.
		for i := range testJobsPerBuild {
			jobs = append(jobs, Job{Start: at + buildSeconds, Queue: "default", Duration: testJobSeconds + 30*i, Created: at})
		}
	}
	for day := range sampleDays {
		base := day * 86400
		build(base + nightlyAt)
		if day%7 >= 5 {
			continue // Saturday, Sunday
		}
		spacing := workdayLength / buildsPerWorkingDay
		for i := range buildsPerWorkingDay {
			// Bursty: builds come in twos and threes, not on a grid.
			jitter := int(stableNumber("sample", fmt.Sprint(day), fmt.Sprint(i))%uint32(spacing)) - spacing/2
			build(base + workdayStart + i*spacing + jitter)
		}
	}
	return jobs
}

// FormatTrace writes jobs as the CSV ParseTrace reads.
// The retries column is written only when some job has one.
func FormatTrace(jobs []Job) string {
	retries := slices.ContainsFunc(jobs, func(j Job) bool { return j.Retries > 0 })
	var b strings.Builder
	b.WriteString("start_seconds,queue,duration_seconds,created_seconds")
	if retries {
		b.WriteString(",retries")
	}
	b.WriteString("\n")
	for _, j := range jobs {
		fmt.Fprintf(&b, "%d,%s,%d,%d", j.Start, j.Queue, j.Duration, j.Created)
		if retries {
			fmt.Fprintf(&b, ",%d", j.Retries)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// BurstyCSV is the second trace the repository ships (bursty-trace.csv),
// written by BurstyTrace: another shape of week, to check that a setting
// chosen on the sample trace is not fitted to it.
//
//go:embed bursty-trace.csv
var BurstyCSV string

// BurstyTrace writes the second trace, also assumptions: Mondays bring a
// weekend's worth of pull requests in the first three working hours (24
// builds, most in groups of two or three at once); Thursdays are release
// days, with 16 builds through the day and, at 18:00 UTC, a release: two
// long builds at once (40 minutes) whose test jobs then start together;
// other working days have 12 builds; builds fan out to 8 test jobs of 12
// minutes; a nightly build every day; weekends quiet. Day 0 is a Monday.
func BurstyTrace() []Job {
	var jobs []Job
	build := func(at, buildFor, tests int) {
		jobs = append(jobs, Job{Start: at, Queue: "builders", Duration: buildFor, Created: at})
		for i := range tests {
			jobs = append(jobs, Job{Start: at + buildFor, Queue: "default", Duration: testJobSeconds + 30*i, Created: at})
		}
	}
	for day := range sampleDays {
		base := day * 86400
		build(base+nightlyAt, buildSeconds, testJobsPerBuild)
		weekday := day % 7
		switch {
		case weekday >= 5:
			continue
		case weekday == 0: // Monday morning
			for i := 0; i < 24; {
				at := base + workdayStart + int(stableNumber("monday", fmt.Sprint(day), fmt.Sprint(i))%uint32(3*3600))
				n := 1 + int(stableNumber("group", fmt.Sprint(day), fmt.Sprint(i))%3)
				for k := 0; k < n && i < 24; k++ {
					build(at, buildSeconds, testJobsPerBuild)
					i++
				}
			}
		default:
			count := 12
			if weekday == 3 { // Thursday: release day
				count = 16
				build(base+18*3600, 40*60, 8)
				build(base+18*3600, 40*60, 8)
			}
			for i := range count {
				at := base + workdayStart + int(stableNumber("day", fmt.Sprint(day), fmt.Sprint(i))%uint32(workdayLength))
				build(at, buildSeconds, testJobsPerBuild)
			}
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Created < jobs[j].Created })
	return jobs
}

// BusyCSV is the third trace the repository ships (busy-trace.csv),
// written by BusyTrace.
//
//go:embed busy-trace.csv
var BusyCSV string

// BusyTrace is the bursty trace with what real CI adds to it, also
// assumptions: every working day six merges to the main branch, each a
// build and its tests and then a deploy job (5 minutes, default queue)
// behind a block step that someone unblocks 10 to 110 minutes after the
// tests finish (the job exists, waiting, from the build's start: the
// scaler counts it as waiting); and one test job in twenty is flaky, fails
// once and is retried by a retry rule.
func BusyTrace() []Job {
	jobs := BurstyTrace()
	for i := range jobs {
		if jobs[i].Queue == "default" && stableNumber("flaky", fmt.Sprint(i))%20 == 0 {
			jobs[i].Retries = 1
		}
	}
	const merges, deploySeconds = 6, 5 * 60
	for day := range sampleDays {
		if day%7 >= 5 {
			continue
		}
		base := day * 86400
		for i := range merges {
			at := base + workdayStart + int(stableNumber("merge", fmt.Sprint(day), fmt.Sprint(i))%uint32(workdayLength))
			jobs = append(jobs, Job{Start: at, Queue: "builders", Duration: buildSeconds, Created: at})
			for k := range testJobsPerBuild {
				jobs = append(jobs, Job{Start: at + buildSeconds, Queue: "default", Duration: testJobSeconds + 30*k, Created: at})
			}
			approval := 10*60 + int(stableNumber("approval", fmt.Sprint(day), fmt.Sprint(i))%uint32(100*60))
			testsDone := at + buildSeconds + testJobSeconds + 30*(testJobsPerBuild-1)
			jobs = append(jobs, Job{Start: testsDone + approval, Queue: "default", Duration: deploySeconds, Created: at})
		}
	}
	sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].Created < jobs[j].Created })
	return jobs
}

// ShippedTraces are the traces the repository ships, by the names
// cmd/fleet -trace takes.
var ShippedTraces = []string{"sample", "bursty", "busy"}

// Shipped reads a shipped trace by name.
func Shipped(name string) (Trace, error) {
	text, ok := map[string]string{"sample": SampleCSV, "bursty": BurstyCSV, "busy": BusyCSV}[name]
	if !ok {
		return Trace{}, fmt.Errorf("no shipped trace %q (have %s)", name, strings.Join(ShippedTraces, ", "))
	}
	jobs, err := ParseTrace(text)
	return Trace{Name: name, Jobs: jobs}, err
}
