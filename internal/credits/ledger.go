package credits

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Ledger is one user's week: the GPU-seconds of the pods closed in it, per product and
// price, and the UIDs of those pods. Credits are derived from it, never stored in it.
//
// Its slices are never modified in place (Add and Close replace them), so a copy of a Ledger
// is independent of the original.
type Ledger struct {
	// Start is when the week began (Week.Start).
	Start time.Time
	// Entries has one entry per product and price, sorted by product and then by the price's
	// text, none with zero GPU-seconds.
	Entries []Entry
	// Closed are the UIDs of the pods closed in this week, sorted.
	Closed []string
}

// ProductUsage is a ledger's total for one product.
type ProductUsage struct {
	// Product is the product's name.
	Product string
	// GPUSeconds is the product's time at every price, unpriced included.
	GPUSeconds int64
	// GPUHours is GPUSeconds in hours, exactly.
	GPUHours Number
	// Credits is what the time cost, exactly.
	Credits Number
	// UnpricedGPUSeconds is the part of GPUSeconds when the product had no price.
	UnpricedGPUSeconds int64
}

// NewLedger is an empty ledger for the week that began at start.
func NewLedger(start time.Time) Ledger { return Ledger{Start: start} }

// Add merges entries into the ledger: GPU-seconds of a product and price already there are
// added to its entry.
func (l *Ledger) Add(entries ...Entry) {
	merged := slices.Clone(l.Entries)
	for _, e := range entries {
		merged = addEntry(merged, e)
	}
	l.Entries = merged
}

// addEntry adds e to the sorted entries, in place.
func addEntry(entries []Entry, e Entry) []Entry {
	if e.GPUSeconds == 0 {
		return entries
	}
	i, found := slices.BinarySearchFunc(entries, e, compareEntries)
	if found {
		entries[i].GPUSeconds += e.GPUSeconds
		return entries
	}
	return slices.Insert(entries, i, e)
}

func compareEntries(a, b Entry) int {
	return cmp.Or(cmp.Compare(a.Product, b.Product), cmp.Compare(a.PerHour, b.PerHour))
}

// IsClosed reports whether the pod with this UID was closed in this week.
func (l Ledger) IsClosed(uid string) bool {
	_, found := slices.BinarySearch(l.Closed, uid)
	return found
}

// Close adds a finished pod's running time within this ledger's week and records its UID.
// It is idempotent: a pod already closed adds nothing, and the answer is false. A pod that
// ran across a reset is closed in each week's ledger, each taking its own part. The pod must
// have ended, so that its charge is fixed by its own times.
func (l *Ledger) Close(p PodUsage, week Week, prices Prices) (bool, error) {
	if p.UID == "" {
		return false, errors.New("pod has no uid: a ledger closes each pod once by its uid")
	}
	if p.End.IsZero() {
		return false, fmt.Errorf("pod %s is still running: close it once it has ended", p.UID)
	}
	i, found := slices.BinarySearch(l.Closed, p.UID)
	if found {
		return false, nil
	}
	l.Add(p.Entries(l.Start, week.Next(l.Start), p.End, prices)...)
	l.Closed = slices.Insert(slices.Clone(l.Closed), i, p.UID)
	return true, nil
}

// GPUSeconds is the ledger's time at every product and price.
func (l Ledger) GPUSeconds() int64 {
	var total int64
	for _, e := range l.Entries {
		total += e.GPUSeconds
	}
	return total
}

// Credits is what the ledger's time cost: the sum of GPU-seconds x price per hour / 3600,
// exactly.
func (l Ledger) Credits() Number {
	var total Number
	for _, e := range l.Entries {
		total = total.Add(e.Credits())
	}
	return total
}

// Breakdown is the ledger's total per product, sorted by product.
func (l Ledger) Breakdown() []ProductUsage {
	var out []ProductUsage
	for _, e := range l.Entries { // sorted by product
		if len(out) == 0 || out[len(out)-1].Product != e.Product {
			out = append(out, ProductUsage{Product: e.Product})
		}
		u := &out[len(out)-1]
		u.GPUSeconds += e.GPUSeconds
		u.Credits = u.Credits.Add(e.Credits())
		if e.PerHour == Unpriced {
			u.UnpricedGPUSeconds += e.GPUSeconds
		}
	}
	for i := range out {
		out[i].GPUHours = Hours(out[i].GPUSeconds)
	}
	return out
}

// Check reports what is wrong with a ledger read back from storage: entries out of order or
// repeated, a price that is not canonical non-negative text, negative GPU-seconds, closed
// UIDs out of order or repeated.
func (l Ledger) Check() error {
	for i, e := range l.Entries {
		if i > 0 && compareEntries(l.Entries[i-1], e) >= 0 {
			return fmt.Errorf("ledger entry %d (%s at %q): out of order or repeated", i, e.Product, string(e.PerHour))
		}
		if e.PerHour != Unpriced {
			if _, err := ParseNonNegative(e.PerHour); err != nil {
				return fmt.Errorf("ledger entry %d (%s): %w", i, e.Product, err)
			}
			if c, _ := Canonical(e.PerHour); c != e.PerHour {
				return fmt.Errorf("ledger entry %d (%s): price %q is not written as %q", i, e.Product, string(e.PerHour), string(c))
			}
		}
		if e.GPUSeconds < 0 {
			return fmt.Errorf("ledger entry %d (%s): %d GPU-seconds: %w", i, e.Product, e.GPUSeconds, ErrNegative)
		}
	}
	for i := 1; i < len(l.Closed); i++ {
		if l.Closed[i-1] >= l.Closed[i] {
			return fmt.Errorf("ledger closed pod %q: out of order or repeated", l.Closed[i])
		}
	}
	return nil
}

// Total is the week so far: the ledger plus the running time, up to now, of every pod not
// yet closed in it (running, or ended and waiting to be closed) within the ledger's week.
// The ledger itself is left as it is.
func Total(l Ledger, live []PodUsage, week Week, now time.Time, prices Prices) Ledger {
	weekEnd := week.Next(l.Start)
	total := l
	for _, p := range live {
		if l.IsClosed(p.UID) {
			continue
		}
		total.Add(p.Entries(l.Start, weekEnd, now, prices)...)
	}
	return total
}
