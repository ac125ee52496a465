package credits

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Unpriced is the PerHour of time when a product had no price (no ResourceCredit priced it):
// charged 0, and kept apart from a price of 0 so that it can be reported.
const Unpriced doradev1.Amount = ""

// PricePeriod is a product's price from Since until the next period of its history.
type PricePeriod struct {
	// Since is when the price took effect, counted from its whole second.
	Since time.Time
	// PerHour is the price of one GPU-hour (or core-hour) in credits; Unpriced when the
	// product lost its price at Since (its ResourceCredit was deleted).
	PerHour doradev1.Amount
}

// PriceHistory is a product's price over time: periods sorted by Since, the first second of
// each a whole second, no two in a row with the same price, each PerHour in canonical text.
// Before the first period the product is unpriced. Build it with NewPriceHistory.
type PriceHistory []PricePeriod

// Prices are the price histories of the products, by product name. A product not in it is
// unpriced.
type Prices map[string]PriceHistory

// PricedInterval is a stretch of time [From, To) with one price.
type PricedInterval struct {
	From, To time.Time
	PerHour  doradev1.Amount
}

// NewPriceHistory sorts the periods and checks them: each price must be a non-negative
// decimal number or Unpriced. Two periods from the same second keep the later in the
// argument list (the last edit wins), and a period that repeats the price before it is
// dropped, so that lookups and splits see each change once.
func NewPriceHistory(periods ...PricePeriod) (PriceHistory, error) {
	sorted := make(PriceHistory, 0, len(periods))
	for _, p := range periods {
		perHour := Unpriced
		if p.PerHour != Unpriced {
			if _, err := ParseNonNegative(p.PerHour); err != nil {
				return nil, fmt.Errorf("price since %s: %w", p.Since.UTC().Format(time.RFC3339), err)
			}
			perHour, _ = Canonical(p.PerHour)
		}
		sorted = append(sorted, PricePeriod{Since: wholeSecond(p.Since), PerHour: perHour})
	}
	slices.SortStableFunc(sorted, func(a, b PricePeriod) int { return a.Since.Compare(b.Since) })
	h := make(PriceHistory, 0, len(sorted))
	for i, p := range sorted {
		if i+1 < len(sorted) && sorted[i+1].Since.Equal(p.Since) {
			continue // a later edit in the same second replaces this one
		}
		if len(h) == 0 && p.PerHour == Unpriced || len(h) > 0 && h[len(h)-1].PerHour == p.PerHour {
			continue // no change
		}
		h = append(h, p)
	}
	return h, nil
}

// At is the price in force at t: that of the last period whose Since is at or before t's
// second, or Unpriced.
func (h PriceHistory) At(t time.Time) doradev1.Amount {
	if i := h.index(t.Unix()); i >= 0 {
		return h[i].PerHour
	}
	return Unpriced
}

// index is the period in force at second s, or -1 before the first.
func (h PriceHistory) index(s int64) int {
	i, found := slices.BinarySearchFunc(h, s, func(p PricePeriod, s int64) int { return cmp.Compare(p.Since.Unix(), s) })
	if found {
		return i
	}
	return i - 1
}

// Split cuts [from, to), in whole seconds, at every price change inside it: the pieces
// follow each other without gap or overlap, each with the price in force throughout it.
// An empty interval has no pieces.
func (h PriceHistory) Split(from, to time.Time) []PricedInterval {
	start, end := from.Unix(), to.Unix()
	if start >= end {
		return nil
	}
	var pieces []PricedInterval
	i := h.index(start)
	for start < end {
		stop := end
		if i+1 < len(h) {
			stop = min(stop, h[i+1].Since.Unix())
		}
		price := Unpriced
		if i >= 0 {
			price = h[i].PerHour
		}
		pieces = append(pieces, PricedInterval{From: time.Unix(start, 0).UTC(), To: time.Unix(stop, 0).UTC(), PerHour: price})
		start = stop
		i++
	}
	return pieces
}

// wholeSecond is the start of t's second, in UTC.
func wholeSecond(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }
