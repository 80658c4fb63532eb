package cost

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// SpotPriceRatio is the assumed price of a spot instance relative to on
// demand. c5 spot prices have mostly sat at 30-40% of on demand in the large
// US regions; 0.4 is the cautious end.
const SpotPriceRatio = 0.4

// PricesAsOf is the date the price table was read.
const PricesAsOf = "2026-11-22"

// Stack is what the estimate needs to know of one agent stack.
type Stack struct {
	Name               string
	InstanceTypes      []string
	MinSize, MaxSize   int
	OnDemandPercentage int
}

// StackCost is the estimate of one agent stack. A stack is priced at the
// dearest of its instance types, so the figures are an upper bound.
type StackCost struct {
	InstanceType        string  `json:"instanceType"`
	HourlyOnDemand      float64 `json:"hourlyOnDemand"`
	OnDemandPercentage  int     `json:"onDemandPercentage"`
	MinSize             int     `json:"minSize"`
	MaxSize             int     `json:"maxSize"`
	IdleInstanceHours   float64 `json:"idleInstanceHours"`
	PeakInstanceHours   float64 `json:"peakInstanceHours"`
	IdleMonthlyOnDemand float64 `json:"idleMonthlyOnDemand"`
	PeakMonthlyOnDemand float64 `json:"peakMonthlyOnDemand"`
	IdleMonthly         float64 `json:"idleMonthly"`
	PeakMonthly         float64 `json:"peakMonthly"`
	HourlyWithSpotShare float64 `json:"hourlyWithSpotShare"`
	MonthlyPerInstance  float64 `json:"monthlyPerInstance"`
}

// Report is the monthly cost of the agent fleet: idle (every stack at its
// minimum, around the clock) and peak (every stack at its maximum, around
// the clock).
type Report struct {
	Currency       string               `json:"currency"`
	Region         string               `json:"region"`
	PricesAsOf     string               `json:"pricesAsOf"`
	SpotPriceRatio float64              `json:"spotPriceRatio"`
	Stacks         map[string]StackCost `json:"stacks"`
	IdleMonthly    float64              `json:"idleMonthly"`
	PeakMonthly    float64              `json:"peakMonthly"`
}

// Estimate prices the stacks in a region.
func Estimate(region string, stacks []Stack) (*Report, error) {
	r := &Report{Currency: "USD", Region: region, PricesAsOf: PricesAsOf, SpotPriceRatio: SpotPriceRatio, Stacks: map[string]StackCost{}}
	for _, s := range stacks {
		if len(s.InstanceTypes) == 0 {
			return nil, fmt.Errorf("stack %s: no instance types to price", s.Name)
		}
		if s.OnDemandPercentage < 0 || s.OnDemandPercentage > 100 {
			return nil, fmt.Errorf("stack %s: on-demand percentage %d is not 0-100", s.Name, s.OnDemandPercentage)
		}
		c := StackCost{MinSize: s.MinSize, MaxSize: s.MaxSize, OnDemandPercentage: s.OnDemandPercentage}
		for _, t := range s.InstanceTypes {
			usd, err := HourlyPrice(region, t)
			if err != nil {
				return nil, fmt.Errorf("stack %s: %w", s.Name, err)
			}
			if usd > c.HourlyOnDemand {
				c.HourlyOnDemand, c.InstanceType = usd, t
			}
		}
		onDemand := float64(s.OnDemandPercentage) / 100
		c.HourlyWithSpotShare = c.HourlyOnDemand * (onDemand + (1-onDemand)*SpotPriceRatio)
		c.IdleInstanceHours = float64(s.MinSize * HoursPerMonth)
		c.PeakInstanceHours = float64(s.MaxSize * HoursPerMonth)
		c.IdleMonthlyOnDemand = round(c.IdleInstanceHours * c.HourlyOnDemand)
		c.PeakMonthlyOnDemand = round(c.PeakInstanceHours * c.HourlyOnDemand)
		c.IdleMonthly = round(c.IdleInstanceHours * c.HourlyWithSpotShare)
		c.PeakMonthly = round(c.PeakInstanceHours * c.HourlyWithSpotShare)
		c.MonthlyPerInstance = round(HoursPerMonth * c.HourlyWithSpotShare)
		c.HourlyWithSpotShare = round4(c.HourlyWithSpotShare)
		r.Stacks[s.Name] = c
		r.IdleMonthly = round(r.IdleMonthly + c.IdleMonthly)
		r.PeakMonthly = round(r.PeakMonthly + c.PeakMonthly)
	}
	return r, nil
}

// WriteText writes the report as a table.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Cost, %s per month (%s on-demand prices of %s; spot at %.0f%% of on demand):\n", r.Currency, r.Region, r.PricesAsOf, r.SpotPriceRatio*100)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stack\ttype\ton-demand %\tmin\tmax\tper instance\tidle (min, always on)\tpeak (max, always on)\t")
	names := make([]string, 0, len(r.Stacks))
	for n := range r.Stacks {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c := r.Stacks[n]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t\n", n, c.InstanceType, c.OnDemandPercentage, c.MinSize, c.MaxSize, c.MonthlyPerInstance, c.IdleMonthly, c.PeakMonthly)
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t\t%.2f\t%.2f\t\n", r.IdleMonthly, r.PeakMonthly)
	return tw.Flush()
}

func round(x float64) float64  { return float64(int64(x*100+0.5)) / 100 }
func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }
