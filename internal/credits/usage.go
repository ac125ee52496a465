package credits

import (
	"time"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// PodUsage is what the credit controller reads of a charged pod.
type PodUsage struct {
	// UID is the pod's UID: the ledger closes each pod once by it.
	UID string
	// User is the Dora user the pod's workload belongs to.
	User string
	// Product is the model of the GPUs the pod really holds (or the CPU product, when a
	// ResourceCredit prices it), the name its price is looked up by.
	Product string
	// GPUs is how many units are charged: GPUs, or cores for a priced CPU product. A pod with
	// none costs nothing.
	GPUs int64
	// Start is when the pod's container started running; zero if it never did.
	Start time.Time
	// End is when it stopped running (finished, or the pod went); zero while it runs.
	End time.Time
}

// Entry is GPU-seconds of one product at one price: a line of a ledger.
type Entry struct {
	// Product is the product's name.
	Product string
	// PerHour is the price of a GPU-hour in canonical text, or Unpriced.
	PerHour doradev1.Amount
	// GPUSeconds is the time, in GPU-seconds (GPUs x seconds).
	GPUSeconds int64
}

// Credits is what the entry costs, exactly. Unpriced time costs 0, and so would a price that
// Ledger.Check refuses: prices reach entries through NewPriceHistory, which checks them.
func (e Entry) Credits() Number {
	if e.PerHour == Unpriced {
		return Number{}
	}
	perHour, _ := ParseAmount(e.PerHour)
	return Charge(e.GPUSeconds, perHour)
}

// Piece is a stretch of a pod's running time within one week and at one price.
type Piece struct {
	// From and To bound the stretch, [From, To), in whole seconds.
	From, To time.Time
	// WeekStart is when the week the stretch belongs to began.
	WeekStart time.Time
	Entry
}

// Running reports whether the pod is running at now: it started at or before now and has
// not ended. Only running pods burn credits.
func (p PodUsage) Running(now time.Time) bool {
	return p.GPUs > 0 && !p.Start.IsZero() && p.End.IsZero() && p.Start.Unix() <= now.Unix()
}

// charged is the pod's running time within [from, to), in whole seconds: [Start, End) once
// it has ended, whatever now is, so that a finished pod always costs the same; [Start, now)
// while it runs. ok is false when nothing of it falls in [from, to).
func (p PodUsage) charged(from, to, now time.Time) (start, end time.Time, ok bool) {
	if p.GPUs <= 0 || p.Start.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	until := p.End
	if until.IsZero() {
		until = now
	}
	s := max(from.Unix(), p.Start.Unix())
	e := min(to.Unix(), until.Unix())
	if s >= e {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(s, 0).UTC(), time.Unix(e, 0).UTC(), true
}

// Pieces is the pod's running time within [from, to) (up to now while it runs), cut at every
// week reset and every price change of its product: each piece has the GPU-seconds of its
// whole seconds, so the pieces add up to the pod's GPUs x seconds, however they are cut.
func (p PodUsage) Pieces(from, to, now time.Time, week Week, prices Prices) []Piece {
	start, end, ok := p.charged(from, to, now)
	if !ok {
		return nil
	}
	history := prices[p.Product]
	var pieces []Piece
	for weekStart := week.Start(start); weekStart.Before(end); {
		weekEnd := week.Next(weekStart)
		for _, stretch := range history.Split(maxTime(start, weekStart), minTime(end, weekEnd)) {
			pieces = append(pieces, Piece{
				From: stretch.From, To: stretch.To, WeekStart: weekStart,
				Entry: Entry{
					Product: p.Product, PerHour: stretch.PerHour,
					GPUSeconds: p.GPUs * (stretch.To.Unix() - stretch.From.Unix()),
				},
			})
		}
		weekStart = weekEnd
	}
	return pieces
}

// Entries is the pod's running time within [from, to) (up to now while it runs) per price:
// what it adds to the ledger of a week that [from, to) lies in.
func (p PodUsage) Entries(from, to, now time.Time, prices Prices) []Entry {
	start, end, ok := p.charged(from, to, now)
	if !ok {
		return nil
	}
	var entries []Entry
	for _, stretch := range prices[p.Product].Split(start, end) {
		entries = addEntry(entries, Entry{
			Product: p.Product, PerHour: stretch.PerHour,
			GPUSeconds: p.GPUs * (stretch.To.Unix() - stretch.From.Unix()),
		})
	}
	return entries
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
