// Package creditsview is a user's credits as kubectl dora shows them: kubectl dora credits
// (the weekly budget, what is used and left now, the burn rate, when the budget runs out at
// that rate and when the week resets) and kubectl dora usage (GPU-hours and credits per
// product, this week and each week the UserCredit keeps).
//
// It is pure: the caller reads the UserCredit and passes the zone, the current time and the
// caller's own time zone; every time is shown in that zone. The credit controller writes a
// UserCredit only when something changes, with asOf and burnRatePerHour for a reader to
// extrapolate: BalanceOf does, to now, with exact decimals (internal/credits).
package creditsview

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

// ErrNoZone is wrapped by BalanceOf and Usage when the UserCredit has no entry for the zone:
// the user has no budget there and has not run anything there this week.
var ErrNoZone = errors.New("no credits entry for the zone")

// Balance is a user's credits in one zone at Now.
type Balance struct {
	// User is the Dora user; Zone the zone.
	User, Zone string
	// HasBudget is false when the user has no weekly budget in the zone: the time is
	// metered, not limited (Weekly and Remaining are then 0).
	HasBudget bool
	// Weekly is the week's budget.
	Weekly credits.Number
	// Used is what the week has cost up to Now: the status's used at AsOf plus the burn rate
	// for the time since (never past the budget: the workloads are held there).
	Used credits.Number
	// UsedAsOf is the status's used, at AsOf (0 when Stale).
	UsedAsOf credits.Number
	// Remaining is Weekly minus Used, never below zero.
	Remaining credits.Number
	// BurnRatePerHour is the credits an hour the user's running pods spend, as of AsOf.
	BurnRatePerHour credits.Number
	// Exhausted is true once the budget is spent (the status says so, or Used reached
	// Weekly since): the user's workloads in the zone are held until NextReset.
	Exhausted bool
	// SpentAt is, when the extrapolation reached the budget between AsOf and Now, when it
	// did; zero otherwise.
	SpentAt time.Time
	// RunsOutAt is when Remaining reaches 0 at BurnRatePerHour; zero when that is not
	// before NextReset, when nothing burns, without a budget, or once Exhausted.
	RunsOutAt time.Time
	// WeekStart and NextReset bound the current week.
	WeekStart, NextReset time.Time
	// AsOf is when the credit controller computed the status; Now is the time shown.
	AsOf, Now time.Time
	// Stale is true when the week has reset since AsOf and the controller has not written
	// since: the figures are extrapolated from the reset with the old burn rate, and
	// NextReset is a week after the reset.
	Stale bool
}

// Balances is BalanceOf for every zone of the UserCredit, in the order of their names.
func Balances(uc *doradev1.UserCredit, now time.Time, loc *time.Location) ([]Balance, error) {
	if uc == nil {
		return nil, errors.New("no UserCredit")
	}
	zones := make([]string, 0, len(uc.Status.Zones))
	for _, z := range uc.Status.Zones {
		zones = append(zones, z.Zone)
	}
	sort.Strings(zones)
	out := make([]Balance, 0, len(zones))
	for _, z := range zones {
		b, err := BalanceOf(uc, z, now, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// BalanceOf is the user's balance in zone at now, every time in loc (UTC when nil).
func BalanceOf(uc *doradev1.UserCredit, zone string, now time.Time, loc *time.Location) (Balance, error) {
	if loc == nil {
		loc = time.UTC
	}
	z, user, err := zoneOf(uc, zone)
	if err != nil {
		return Balance{}, err
	}
	b := Balance{User: user, Zone: zone, HasBudget: z.Weekly != "", Exhausted: z.Exhausted, Now: now.In(loc)}
	usedAsOf, err := amount(z.Used, "used")
	if err != nil {
		return Balance{}, err
	}
	if b.Weekly, err = amount(z.Weekly, "weekly"); err != nil {
		return Balance{}, err
	}
	if b.BurnRatePerHour, err = amount(z.BurnRatePerHour, "burnRatePerHour"); err != nil {
		return Balance{}, err
	}
	b.AsOf = now
	if z.AsOf != nil {
		b.AsOf = z.AsOf.Time
	}
	if z.WeekStart != nil {
		b.WeekStart = z.WeekStart.Time
	}
	if z.NextReset != nil {
		b.NextReset = z.NextReset.Time
	}

	from := b.AsOf
	if !b.NextReset.IsZero() && !now.Before(b.NextReset) {
		// The week has reset and nobody wrote since: a new week, from the reset.
		b.Stale = true
		length := 7 * 24 * time.Hour
		if !b.WeekStart.IsZero() && b.NextReset.After(b.WeekStart) {
			length = b.NextReset.Sub(b.WeekStart)
		}
		for !now.Before(b.NextReset) {
			b.WeekStart, b.NextReset = b.NextReset, b.NextReset.Add(length)
		}
		usedAsOf, from, b.Exhausted = credits.Number{}, b.WeekStart, false
	}
	b.Used, b.UsedAsOf = usedAsOf, usedAsOf
	if elapsed := now.Unix() - from.Unix(); elapsed > 0 {
		b.Used = usedAsOf.Add(credits.Charge(elapsed, b.BurnRatePerHour))
	}
	if b.HasBudget {
		// The manager holds the workloads when the budget is spent: used stops there.
		if b.Used.Cmp(b.Weekly) >= 0 && usedAsOf.Cmp(b.Weekly) < 0 {
			b.SpentAt = credits.Predict(usedAsOf, b.Weekly, b.BurnRatePerHour, from, time.Time{}).ExhaustsAt
		}
		if b.Used.Cmp(b.Weekly) > 0 {
			b.Used = b.Weekly.Max(usedAsOf)
		}
		b.Remaining = credits.Remaining(b.Used, b.Weekly)
		b.Exhausted = b.Exhausted || b.Used.Cmp(b.Weekly) >= 0
		if !b.Exhausted {
			// From asOf when the caller's clock is behind it: used does not go back.
			b.RunsOutAt = credits.Predict(b.Used, b.Weekly, b.BurnRatePerHour, latest(now, from), b.NextReset).ExhaustsAt
		}
	}
	b.AsOf, b.WeekStart, b.NextReset = inLoc(b.AsOf, loc), inLoc(b.WeekStart, loc), inLoc(b.NextReset, loc)
	b.RunsOutAt, b.SpentAt = inLoc(b.RunsOutAt, loc), inLoc(b.SpentAt, loc)
	return b, nil
}

// RunsOut says when the budget runs out at this rate: a time and how long until it, "spent",
// "not before the reset", "never at this rate" or, without a budget, "no budget: metered".
func (b Balance) RunsOut() string {
	switch {
	case !b.HasBudget:
		return "no budget here: metered, not limited"
	case b.Exhausted:
		return "spent: the workloads are held until the reset"
	case !b.RunsOutAt.IsZero():
		return fmt.Sprintf("%s, in %s, at this rate", FormatTime(b.RunsOutAt), FormatDuration(b.RunsOutAt.Sub(b.Now)))
	case b.BurnRatePerHour.Sign() == 0:
		return "not before the reset: nothing runs"
	default:
		return "not before the reset, at this rate"
	}
}

// Render writes the balance as kubectl dora credits shows it.
func (b Balance) Render(w io.Writer) error {
	var tw bytes.Buffer
	fmt.Fprintf(&tw, "Credits of %s in zone %s, at %s\n", b.User, b.Zone, FormatTime(b.Now))
	line := func(k, v string) { fmt.Fprintf(&tw, "  %s:\t%s\n", k, v) }
	if b.HasBudget {
		line("Weekly budget", b.Weekly.String())
	} else {
		line("Weekly budget", "none in this zone: the time is metered, not limited")
	}
	used := b.Used.String()
	switch since := b.Now.Sub(b.AsOf).Truncate(time.Second); {
	case b.Stale:
		used += fmt.Sprintf("  (the week reset at %s; extrapolated from it at the last burn rate, nothing written since)", FormatTime(b.WeekStart))
	case !b.SpentAt.IsZero():
		used += fmt.Sprintf("  (%s at %s; at the burn rate the budget ran out at %s)", b.UsedAsOf, FormatTime(b.AsOf), FormatTime(b.SpentAt))
	case since > 0 && b.BurnRatePerHour.Sign() > 0:
		used += fmt.Sprintf("  (%s at %s, plus %s at the burn rate)", b.UsedAsOf, FormatTime(b.AsOf), FormatDuration(since))
	}
	line("Used", used)
	if b.HasBudget {
		line("Remaining", b.Remaining.String())
	}
	line("Burn rate", b.BurnRatePerHour.String()+" credits/hour")
	line("Runs out", b.RunsOut())
	if !b.NextReset.IsZero() {
		line("Next reset", fmt.Sprintf("%s, in %s", FormatTime(b.NextReset), FormatDuration(b.NextReset.Sub(b.Now))))
	}
	if b.Exhausted {
		line("Held", "the weekly budget is spent: workloads in this zone wait for the reset, or ask an administrator to raise spec.credits")
	}
	return tabulate(w, tw.Bytes())
}

// RenderBalances writes one line per zone: ZONE WEEKLY USED REMAINING BURN/HOUR RUNS OUT
// NEXT RESET.
func RenderBalances(w io.Writer, bs []Balance, noHeaders bool) error {
	var tw bytes.Buffer
	if !noHeaders {
		fmt.Fprintln(&tw, "ZONE\tWEEKLY\tUSED\tREMAINING\tBURN/HOUR\tRUNS OUT\tNEXT RESET")
	}
	for _, b := range bs {
		weekly, remaining := b.Weekly.String(), b.Remaining.String()
		if !b.HasBudget {
			weekly, remaining = "none", "-"
		}
		runsOut := "not before the reset"
		switch {
		case !b.HasBudget:
			runsOut = "-"
		case b.Exhausted:
			runsOut = "spent"
		case !b.RunsOutAt.IsZero():
			runsOut = FormatTime(b.RunsOutAt)
		}
		reset := "-"
		if !b.NextReset.IsZero() {
			reset = FormatTime(b.NextReset)
		}
		fmt.Fprintf(&tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Zone, weekly, b.Used, remaining, b.BurnRatePerHour, runsOut, reset)
	}
	return tabulate(w, tw.Bytes())
}

// FormatTime is t as the commands show it: "Sun 2025-01-12 00:00 CET".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("Mon 2006-01-02 15:04 MST")
}

// FormatDuration is d in days, hours and minutes, as "3d14h", "9h30m", "45m" or "30s"; a
// negative d is "now".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	d = d.Round(time.Second)
	days, hours, minutes := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh%dm", hours, minutes)
	case minutes > 0:
		return fmt.Sprintf("%dm", minutes)
	default:
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
}

// zoneOf is the UserCredit's entry for zone and its user.
func zoneOf(uc *doradev1.UserCredit, zone string) (doradev1.ZoneCredits, string, error) {
	if uc == nil {
		return doradev1.ZoneCredits{}, "", errors.New("no UserCredit")
	}
	user := uc.Spec.User
	if user == "" {
		user = uc.Name
	}
	var known []string
	for _, z := range uc.Status.Zones {
		if z.Zone == zone {
			return z, user, nil
		}
		known = append(known, z.Zone)
	}
	sort.Strings(known)
	if len(known) == 0 {
		return doradev1.ZoneCredits{}, user, fmt.Errorf("%s has %w %s: nothing was charged there this week and there is no budget (the UserCredit has no zones yet)", user, ErrNoZone, zone)
	}
	return doradev1.ZoneCredits{}, user, fmt.Errorf("%s has %w %s: nothing was charged there this week and there is no budget (zones with credits: %s)", user, ErrNoZone, zone, strings.Join(known, ", "))
}

func amount(a doradev1.Amount, field string) (credits.Number, error) {
	n, err := credits.ParseAmount(a)
	if err != nil {
		return credits.Number{}, fmt.Errorf("status %s: %w", field, err)
	}
	return n, nil
}

func inLoc(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tabulate writes rows (tab-separated cells, one row a line) to w with the columns aligned,
// as kubectl aligns its tables.
func tabulate(w io.Writer, rows []byte) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if _, err := tw.Write(rows); err != nil {
		return err
	}
	return tw.Flush()
}
