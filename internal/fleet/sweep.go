package fleet

import (
	"fmt"
	"math"
	"slices"
)

// Sweep is the uncertainty a setting is judged over: every combination of
// boot time, spot price ratio and seed (one possible month of spot
// interruptions), with a cold-build penalty and an interruption rate. A
// setting's figure is its worst case over the sweep, and its median.
type Sweep struct {
	BootSeconds              []int
	SpotRatios               []float64
	Seeds                    int
	ColdPenaltySeconds       int
	SpotInterruptionsPerHour float64
}

// DefaultSweep is the uncertainty the figures of docs/cost-and-capacity.md are given over:
// boots of 3, 4 and 5 minutes (the scaler's "typically takes 3-5
// minutes", scaler.go 1.12.0); spot at 40, 50 and 60 % of on demand (AWS's
// own c5.2xlarge examples run about 50-56 %); five months of spot
// interruptions at 0.5 % an hour; cold builds 5 minutes longer.
func DefaultSweep() Sweep {
	return Sweep{BootSeconds: []int{180, 240, 300}, SpotRatios: []float64{0.4, 0.5, 0.6}, Seeds: 5,
		ColdPenaltySeconds: DefaultColdPenaltySeconds, SpotInterruptionsPerHour: 0.005}
}

// Validate says what is wrong with the sweep.
func (s Sweep) Validate() error {
	switch {
	case len(s.BootSeconds) == 0 || slices.ContainsFunc(s.BootSeconds, func(b int) bool { return b < 30 }):
		return fmt.Errorf("sweep: boot times %v: want at least one, each 30 s or more", s.BootSeconds)
	case len(s.SpotRatios) == 0 || slices.ContainsFunc(s.SpotRatios, func(r float64) bool { return r <= 0 || r > 1 }):
		return fmt.Errorf("sweep: spot ratios %v: want at least one, each in (0, 1]", s.SpotRatios)
	case s.Seeds < 1:
		return fmt.Errorf("sweep: %d seeds: want 1 or more", s.Seeds)
	case s.ColdPenaltySeconds < 0 || s.SpotInterruptionsPerHour < 0 || s.SpotInterruptionsPerHour > 1:
		return fmt.Errorf("sweep: cold penalty %d s, interruptions %g an hour: want neither negative, the rate at most 1",
			s.ColdPenaltySeconds, s.SpotInterruptionsPerHour)
	}
	return nil
}

// Outcome is one setting's figures over a sweep: for the queues judged,
// the highest working-hours p95 wait of any run, and the median of each
// run's highest; the cost at its worst and median; and the most jobs any
// run killed or left unserved.
type Outcome struct {
	Runs                 int                `json:"runs"`
	WorstWorkingP95      float64            `json:"worstWorkingHoursP95WaitSeconds"`
	MedianWorkingP95     float64            `json:"medianWorkingHoursP95WaitSeconds"`
	WorstMonthlyCostUSD  float64            `json:"worstMonthlyCostUSD"`
	MedianMonthlyCostUSD float64            `json:"medianMonthlyCostUSD"`
	MostKilledJobs       int                `json:"mostKilledJobs"`
	MostUnservedJobs     int                `json:"mostUnservedJobs"`
	WorstRun             string             `json:"worstRun"` // the assumptions of the worst wait
	WorstQueue           string             `json:"worstQueue"`
	WorstWaitByQueue     map[string]float64 `json:"worstWorkingHoursP95ByQueue"`
}

// Trace is a named list of jobs.
type Trace struct {
	Name string
	Jobs []Job
}

// RunSweep replays every trace on stacks for every point of the sweep and
// sums it up for the queues named. base supplies what the sweep does not
// vary (prices, working hours, retry rules).
func RunSweep(stacks []Stack, traces []Trace, base Options, sweep Sweep, queues []string) (Outcome, error) {
	if err := sweep.Validate(); err != nil {
		return Outcome{}, err
	}
	if len(traces) == 0 {
		return Outcome{}, fmt.Errorf("sweep: no trace")
	}
	out := Outcome{WorstWaitByQueue: map[string]float64{}}
	var waits, costs []float64
	for _, trace := range traces {
		if err := sweepTrace(&out, &waits, &costs, stacks, trace, base, sweep, queues); err != nil {
			return Outcome{}, fmt.Errorf("trace %s: %w", trace.Name, err)
		}
	}
	out.MedianWorkingP95 = median(waits)
	out.MedianMonthlyCostUSD = round2(median(costs))
	out.WorstMonthlyCostUSD = slices.Max(costs)
	return out, nil
}

func sweepTrace(out *Outcome, waits, costs *[]float64, stacks []Stack, trace Trace, base Options, sweep Sweep, queues []string) error {
	jobs := trace.Jobs
	for _, boot := range sweep.BootSeconds {
		for seed := 1; seed <= sweep.Seeds; seed++ {
			opts := base
			opts.BootSeconds, opts.Seed = boot, seed
			opts.SpotInterruptionsPerHour = sweep.SpotInterruptionsPerHour
			opts.ColdPenaltySeconds = map[string]int{"builders": sweep.ColdPenaltySeconds}
			res, err := Simulate(stacks, jobs, opts)
			if err != nil {
				return err
			}
			worst, worstQueue := 0.0, ""
			killed, unserved := 0, 0
			for _, q := range res.Queues {
				killed += q.KilledJobs
				unserved += q.UnservedJobs
				if !slices.Contains(queues, q.Queue) {
					continue
				}
				out.WorstWaitByQueue[q.Queue] = math.Max(out.WorstWaitByQueue[q.Queue], q.WorkingHours.P95WaitSeconds)
				if q.WorkingHours.P95WaitSeconds > worst || worstQueue == "" {
					worst, worstQueue = q.WorkingHours.P95WaitSeconds, q.Queue
				}
			}
			out.MostKilledJobs = max(out.MostKilledJobs, killed)
			out.MostUnservedJobs = max(out.MostUnservedJobs, unserved)
			if worst > out.WorstWorkingP95 || out.Runs == 0 {
				out.WorstWorkingP95, out.WorstQueue = worst, worstQueue
				out.WorstRun = fmt.Sprintf("%s trace, boot %d s, seed %d", trace.Name, boot, seed)
			}
			for _, ratio := range sweep.SpotRatios {
				*waits = append(*waits, worst)
				*costs = append(*costs, res.CostAt(ratio))
				out.Runs++
			}
		}
	}
	return nil
}

func median(xs []float64) float64 {
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
