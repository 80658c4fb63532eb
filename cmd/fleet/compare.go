package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"mtrlz.dev/ci-infra/internal/fleet"
)

// Candidate is one setting to compare: a name and the template parameters
// it changes, as -set takes them ("STACK.PARAM" → value). The first
// candidate of a file is the baseline the others' cost is divided by.
type Candidate struct {
	Name string            `json:"name"`
	Set  map[string]string `json:"set"`
}

// Row is one candidate's line of the comparison: its figures over every
// trace and the whole sweep (fleet.Outcome), and its worst cost as a
// ratio to the first candidate's.
type Row struct {
	Name string            `json:"name"`
	Set  map[string]string `json:"set"`
	fleet.Outcome
	CostRatio float64 `json:"costRatio"`
}

// comparedQueues are the queues whose waits engineers feel.
var comparedQueues = []string{"default", "builders"}

// readCandidates reads a JSON list of candidates.
func readCandidates(path string) ([]Candidate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cs []Candidate
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, fmt.Errorf("%s: want a JSON list of {\"name\", \"set\": {\"STACK.PARAM\": \"VALUE\"}}: %w", path, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%s: no candidates", path)
	}
	return cs, nil
}

// compare sweeps every candidate and returns the rows.
func compare(cs []Candidate, sweep func(set map[string]string) (fleet.Outcome, error)) ([]Row, error) {
	var rows []Row
	for _, c := range cs {
		out, err := sweep(c.Set)
		if err != nil {
			return nil, fmt.Errorf("candidate %q: %w", c.Name, err)
		}
		rows = append(rows, Row{Name: c.Name, Set: c.Set, Outcome: out})
	}
	for i := range rows {
		if rows[0].WorstMonthlyCostUSD > 0 {
			rows[i].CostRatio = math.Round(rows[i].WorstMonthlyCostUSD/rows[0].WorstMonthlyCostUSD*100) / 100
		}
	}
	return rows, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// writeTable prints the rows: per candidate, its worst and median cost
// and working-hours p95 wait over the sweep, the worst per queue, and the
// run that gave the worst wait.
func writeTable(w io.Writer, rows []Row) {
	fmt.Fprintf(w, "%-34s %10s %10s %6s %9s %9s %9s %9s %6s  %s\n",
		"candidate", "USD worst", "USD median", "ratio", "p95 worst", "p95 med", "default", "builders", "killed", "worst run")
	for _, r := range rows {
		fmt.Fprintf(w, "%-34s %10.2f %10.2f %6.2f %9.0f %9.0f %9.0f %9.0f %6d  %s\n", r.Name, r.WorstMonthlyCostUSD,
			r.MedianMonthlyCostUSD, r.CostRatio, r.WorstWorkingP95, r.MedianWorkingP95, r.WorstWaitByQueue["default"],
			r.WorstWaitByQueue["builders"], r.MostKilledJobs, r.WorstRun)
	}
}

// frontier are the rows no other row beats on both cost and wait.
func frontier(rows []Row) []Row {
	var out []Row
	for _, r := range rows {
		dominated := false
		for _, o := range rows {
			if o.WorstMonthlyCostUSD <= r.WorstMonthlyCostUSD && o.WorstWorkingP95 <= r.WorstWorkingP95 &&
				(o.WorstMonthlyCostUSD < r.WorstMonthlyCostUSD || o.WorstWorkingP95 < r.WorstWorkingP95) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].WorstMonthlyCostUSD < out[j].WorstMonthlyCostUSD })
	return out
}

// writeSVG draws the worst cost against the worst working-hours p95 wait,
// both over the sweep: a point
// per candidate, the frontier joined, and the 60 s target and the first
// candidate's cost as guides.
func writeSVG(w io.Writer, rows []Row, title string) error {
	const width, height, left, bottom, top, right = 760, 480, 70, 50, 40, 30
	maxCost, maxWait := 0.0, 60.0
	for _, r := range rows {
		maxCost = math.Max(maxCost, r.WorstMonthlyCostUSD)
		maxWait = math.Max(maxWait, r.WorstWorkingP95)
	}
	maxCost *= 1.1
	maxWait *= 1.1
	x := func(c float64) float64 { return left + c/maxCost*float64(width-left-right) }
	y := func(s float64) float64 { return float64(height-bottom) - s/maxWait*float64(height-bottom-top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14">%s</text>`+"\n", left, escape(title))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n",
		left, height-bottom, width-right, height-bottom, left, top, left, height-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">worst monthly cost over the sweep, USD</text>`+"\n", (width+left)/2, height-12)
	fmt.Fprintf(&b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">worst p95 wait in working hours over the sweep, s</text>`+"\n", (height)/2, height/2)
	for i := 0; i <= 4; i++ {
		c, s := maxCost*float64(i)/4, maxWait*float64(i)/4
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%.0f</text><text x="%d" y="%.0f" text-anchor="end">%.0f</text>`+"\n",
			x(c), height-bottom+16, c, left-6, y(s)+4, s)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="green" stroke-dasharray="4"/><text x="%d" y="%.1f" fill="green">60 s</text>`+"\n",
		left, y(60), width-right, y(60), width-right-30, y(60)-4)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="gray" stroke-dasharray="4"/>`+"\n",
		x(rows[0].WorstMonthlyCostUSD), top, x(rows[0].WorstMonthlyCostUSD), height-bottom)
	var pts []string
	for _, r := range frontier(rows) {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(r.WorstMonthlyCostUSD), y(r.WorstWorkingP95)))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="steelblue"/>`+"\n", strings.Join(pts, " "))
	for _, r := range rows {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="steelblue"/><text x="%.1f" y="%.1f">%s</text>`+"\n",
			x(r.WorstMonthlyCostUSD), y(r.WorstWorkingP95), x(r.WorstMonthlyCostUSD)+6, y(r.WorstWorkingP95)-6, escape(r.Name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
