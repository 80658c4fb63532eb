// Package cost owns the EC2 price table of the repository (prices.csv, with
// the date and source of its figures) and what is computed from it. The
// table is also the list of instance types and regions config may name: a
// type or region without a price is refused, never costed at zero.
package cost

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed prices.csv
var pricesCSV string

// HoursPerMonth is AWS's billing convention (365 × 24 / 12).
const HoursPerMonth = 730

var (
	loadOnce sync.Once
	prices   map[string]map[string]float64 // region → type → USD/h
	loadErr  error
)

func load() {
	prices = map[string]map[string]float64{}
	var rows []string
	for _, line := range strings.Split(pricesCSV, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			rows = append(rows, line)
		}
	}
	records, err := csv.NewReader(strings.NewReader(strings.Join(rows, "\n"))).ReadAll()
	if err != nil {
		loadErr = fmt.Errorf("prices.csv: %w", err)
		return
	}
	for i, rec := range records[1:] { // records[0] is the header
		usd, err := strconv.ParseFloat(rec[2], 64)
		if err != nil || usd <= 0 {
			loadErr = fmt.Errorf("prices.csv row %d: price %q is not a positive number", i+2, rec[2])
			return
		}
		if prices[rec[0]] == nil {
			prices[rec[0]] = map[string]float64{}
		}
		prices[rec[0]][rec[1]] = usd
	}
}

// HourlyPrice is the on-demand price of an instance type in a region.
func HourlyPrice(region, instanceType string) (float64, error) {
	loadOnce.Do(load)
	if loadErr != nil {
		return 0, loadErr
	}
	byType, ok := prices[region]
	if !ok {
		return 0, fmt.Errorf("region %q is not in the price table (internal/cost/prices.csv has %s)", region, strings.Join(Regions(), ", "))
	}
	usd, ok := byType[instanceType]
	if !ok {
		return 0, fmt.Errorf("instance type %q has no price for %s in internal/cost/prices.csv (known: %s)", instanceType, region, strings.Join(InstanceTypes(region), ", "))
	}
	return usd, nil
}

// Regions lists the regions of the table.
func Regions() []string {
	loadOnce.Do(load)
	var rs []string
	for r := range prices {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

// InstanceTypes lists the instance types priced in a region.
func InstanceTypes(region string) []string {
	loadOnce.Do(load)
	var ts []string
	for t := range prices[region] {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}
