package creditsview

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

// KeptWeeks is how many past weeks with usage a UserCredit keeps in its history.
const KeptWeeks = 8

// ProductUsage is the time and cost of one product in one week.
type ProductUsage struct {
	// Product is the GPU model (or CPU model, for a priced CPU).
	Product string
	// GPUHours is the time in GPU-hours (core-hours for a CPU); Credits what it cost.
	GPUHours, Credits credits.Number
}

// WeekUsage is one week's usage in one zone.
type WeekUsage struct {
	// Week counts back from the current week: 0 is this week, 1 last week, and so on.
	Week int
	// Start and End bound the week (End is the next week's start).
	Start, End time.Time
	// Products are the week's products, by name; none in a week without usage.
	Products []ProductUsage
	// GPUHours and Credits are the week's totals.
	GPUHours, Credits credits.Number
	// AsOf is, for the current week, when its figures were computed; zero for past weeks,
	// which are closed.
	AsOf time.Time
}

// Usage is the user's usage in zone: this week first (up to the status's asOf), then every
// week the history keeps, newest first, each numbered by how many weeks ago it began. A week
// missing between two kept ones had no usage (the controller keeps only weeks with usage).
// Times are in loc (UTC when nil).
func Usage(uc *doradev1.UserCredit, zone string, loc *time.Location) ([]WeekUsage, error) {
	if loc == nil {
		loc = time.UTC
	}
	z, _, err := zoneOf(uc, zone)
	if err != nil {
		return nil, err
	}
	if z.WeekStart == nil {
		return nil, fmt.Errorf("the credits of zone %s have no weekStart yet: the credit controller has not accounted them", zone)
	}
	this, err := week(0, z.Products, "status.zones["+zone+"].products")
	if err != nil {
		return nil, err
	}
	this.Start = z.WeekStart.In(loc)
	if z.NextReset != nil {
		this.End = z.NextReset.In(loc)
	}
	if z.AsOf != nil {
		this.AsOf = z.AsOf.In(loc)
	}
	weeks := []WeekUsage{this}
	for i, h := range z.History {
		start := h.WeekStart.In(loc)
		w, err := week(weeksBetween(start, this.Start), h.Products, fmt.Sprintf("status.zones[%s].history[%d]", zone, i))
		if err != nil {
			return nil, err
		}
		// A week ends where the next begins: the newer kept week when it is the next one,
		// else a week later.
		w.Start, w.End = start, start.AddDate(0, 0, 7)
		if newer := weeks[len(weeks)-1]; newer.Week == w.Week-1 {
			w.End = newer.Start
		}
		weeks = append(weeks, w)
	}
	return weeks, nil
}

// weeksBetween is how many weeks before this week's start a week starting at start began,
// rounded to the nearest week (a daylight saving change moves a reset by an hour).
func weeksBetween(start, thisStart time.Time) int {
	return int((thisStart.Sub(start) + 84*time.Hour) / (7 * 24 * time.Hour))
}

func week(n int, products []doradev1.ProductCredits, field string) (WeekUsage, error) {
	w := WeekUsage{Week: n}
	for i, p := range products {
		hours, err := credits.ParseAmount(p.GPUHours)
		if err != nil {
			return WeekUsage{}, fmt.Errorf("%s[%d].gpuHours: %w", field, i, err)
		}
		cost, err := credits.ParseAmount(p.Credits)
		if err != nil {
			return WeekUsage{}, fmt.Errorf("%s[%d].credits: %w", field, i, err)
		}
		w.Products = append(w.Products, ProductUsage{Product: p.Product, GPUHours: hours, Credits: cost})
		w.GPUHours, w.Credits = w.GPUHours.Add(hours), w.Credits.Add(cost)
	}
	return w, nil
}

var weekNumber = regexp.MustCompile(`^[0-9]{1,4}$`)

// SelectWeek picks the week --week asks for among Usage's weeks: "" (every week), a number
// (0 this week, 1 last week, ...), or a date, 2025-01-08 (the week holding 00:00 of that day
// in loc), or an RFC 3339 time. A week the history has no entry for, between this week and
// the oldest kept one or before the history is full, had no usage: it is returned empty,
// its bounds a whole number of weeks (in loc) before this week's. A week older than what is
// kept is an error saying so.
func SelectWeek(weeks []WeekUsage, spec string, loc *time.Location) ([]WeekUsage, error) {
	if loc == nil {
		loc = time.UTC
	}
	spec = strings.TrimSpace(spec)
	if spec == "" || len(weeks) == 0 {
		return weeks, nil
	}
	this := weeks[0]
	var n int
	switch {
	case weekNumber.MatchString(spec):
		n, _ = strconv.Atoi(spec)
	default:
		t, err := time.ParseInLocation("2006-01-02", spec, loc)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, spec); err != nil {
				return nil, fmt.Errorf("--week %q: give a number of weeks back (0 this week, 1 last week) or a date such as 2025-01-08", spec)
			}
		}
		if !this.End.IsZero() && !t.Before(this.End) {
			return nil, fmt.Errorf("--week %s: that is after this week, which ends %s", spec, FormatTime(this.End))
		}
		if !t.Before(this.Start) {
			return weeks[:1], nil
		}
		for _, w := range weeks[1:] {
			if !t.Before(w.Start) && t.Before(w.End) {
				return []WeekUsage{w}, nil
			}
		}
		n = 1
		for this.Start.AddDate(0, 0, -7*n).After(t) {
			if n++; n > 100*52 {
				return nil, fmt.Errorf("--week %s: that is more than a hundred years ago", spec)
			}
		}
	}
	for _, w := range weeks {
		if w.Week == n {
			return []WeekUsage{w}, nil
		}
	}
	oldest := weeks[len(weeks)-1]
	if len(weeks)-1 >= KeptWeeks && n > oldest.Week {
		return nil, fmt.Errorf("--week %s: the week of %s is no longer kept: the UserCredit keeps the last %d weeks with usage, the oldest from %s",
			spec, this.Start.In(loc).AddDate(0, 0, -7*n).Format("2006-01-02"), KeptWeeks, oldest.Start.Format("2006-01-02"))
	}
	start := this.Start.In(loc).AddDate(0, 0, -7*n)
	return []WeekUsage{{Week: n, Start: start, End: start.AddDate(0, 0, 7)}}, nil
}

// RenderUsage writes the weeks as a table: WEEK FROM TO PRODUCT GPU-HOURS CREDITS, a line
// per product and, for a week of several products, a total; a week without usage has one
// line with product "-". The current week's line says until when its figures run.
func RenderUsage(w io.Writer, weeks []WeekUsage, noHeaders bool) error {
	var tw bytes.Buffer
	if !noHeaders {
		fmt.Fprintln(&tw, "WEEK\tFROM\tTO\tPRODUCT\tGPU-HOURS\tCREDITS")
	}
	const day = "2006-01-02 15:04 MST"
	for _, wk := range weeks {
		to := "-"
		switch {
		case !wk.AsOf.IsZero():
			to = "now (" + wk.AsOf.Format(day) + ")"
		case !wk.End.IsZero():
			to = wk.End.Format(day)
		}
		label := strconv.Itoa(wk.Week)
		if len(wk.Products) == 0 {
			fmt.Fprintf(&tw, "%s\t%s\t%s\t-\t0.00\t0.00\n", label, wk.Start.Format(day), to)
			continue
		}
		for _, p := range wk.Products {
			fmt.Fprintf(&tw, "%s\t%s\t%s\t%s\t%s\t%s\n", label, wk.Start.Format(day), to, p.Product, p.GPUHours, p.Credits)
		}
		if len(wk.Products) > 1 {
			fmt.Fprintf(&tw, "%s\t%s\t%s\t%s\t%s\t%s\n", label, wk.Start.Format(day), to, "total", wk.GPUHours, wk.Credits)
		}
	}
	return tabulate(w, tw.Bytes())
}

// WriteUsageCSV writes the weeks as CSV (-o csv), one row per week and product, with a
// header: week,week_start,week_end,product,gpu_hours,credits. Times are RFC 3339 in the
// weeks' location; the current week's end is its asOf; a week without usage has one row
// with an empty product and zeros. Numbers have 2 decimal places.
func WriteUsageCSV(w io.Writer, weeks []WeekUsage) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"week", "week_start", "week_end", "product", "gpu_hours", "credits"}); err != nil {
		return err
	}
	for _, wk := range weeks {
		end := wk.End
		if !wk.AsOf.IsZero() {
			end = wk.AsOf
		}
		endText := ""
		if !end.IsZero() {
			endText = end.Format(time.RFC3339)
		}
		rows := wk.Products
		if len(rows) == 0 {
			rows = []ProductUsage{{}}
		}
		for _, p := range rows {
			if err := cw.Write([]string{strconv.Itoa(wk.Week), wk.Start.Format(time.RFC3339), endText, p.Product, p.GPUHours.String(), p.Credits.String()}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
