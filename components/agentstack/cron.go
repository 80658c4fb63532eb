package agentstack

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // a schedule's time zone is read on any machine
)

// Cron is a five-field cron expression (minute hour day-of-month month
// day-of-week) in a time zone, as the template's ScaleUpSchedule and
// ScaleDownSchedule take them with ScheduleTimezone (AWS scheduled
// actions' Recurrence: numbers, *, ranges, lists, steps, and day names).
type Cron struct {
	expr   string
	fields [5]map[int]bool
	loc    *time.Location
}

var cronRanges = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}

var dayNames = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

// ParseCron reads expr in the IANA time zone tz ("" is UTC).
func ParseCron(expr, tz string) (Cron, error) {
	c := Cron{expr: expr, loc: time.UTC}
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return Cron{}, fmt.Errorf("ScheduleTimezone %q: %w", tz, err)
		}
		c.loc = loc
	}
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return Cron{}, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week)", expr)
	}
	for i, part := range parts {
		set := map[int]bool{}
		for _, item := range strings.Split(part, ",") {
			lo, hi, step := cronRanges[i][0], cronRanges[i][1], 1
			rng, stepText, hasStep := strings.Cut(item, "/")
			if hasStep {
				n, err := strconv.Atoi(stepText)
				if err != nil || n <= 0 {
					return Cron{}, fmt.Errorf("cron %q: bad step %q", expr, item)
				}
				step = n
			}
			if rng != "*" {
				a, b, isRange := strings.Cut(rng, "-")
				var err error
				if lo, err = cronValue(i, a); err != nil {
					return Cron{}, fmt.Errorf("cron %q: %w", expr, err)
				}
				hi = lo
				if isRange {
					if hi, err = cronValue(i, b); err != nil {
						return Cron{}, fmt.Errorf("cron %q: %w", expr, err)
					}
				} else if hasStep {
					hi = cronRanges[i][1]
				}
			}
			for v := lo; v <= hi; v += step {
				set[v] = true
			}
		}
		if i == 4 && set[7] {
			set[0] = true // Sunday is 0 or 7
		}
		c.fields[i] = set
	}
	return c, nil
}

func cronValue(field int, text string) (int, error) {
	if field == 4 {
		if n, ok := dayNames[strings.ToUpper(text)]; ok {
			return n, nil
		}
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < cronRanges[field][0] || n > cronRanges[field][1] {
		return 0, fmt.Errorf("%q is out of range", text)
	}
	return n, nil
}

// Matches reports whether the minute that starts at t is one of the
// expression's, in its time zone.
func (c Cron) Matches(t time.Time) bool {
	if c.expr == "" {
		return false
	}
	at := t.In(c.loc)
	return c.fields[0][at.Minute()] && c.fields[1][at.Hour()] && c.fields[2][at.Day()] &&
		c.fields[3][int(at.Month())] && c.fields[4][int(at.Weekday())]
}
