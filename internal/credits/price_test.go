package credits

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// utc is the instant written as "2006-01-02 15:04:05" in UTC.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.DateTime, s)
	if err != nil {
		t.Fatalf("time.Parse(%q): %v", s, err)
	}
	return v
}

// history is NewPriceHistory of the periods, which must be valid.
func history(t testing.TB, periods ...PricePeriod) PriceHistory {
	t.Helper()
	h, err := NewPriceHistory(periods...)
	if err != nil {
		t.Fatalf("NewPriceHistory: %v", err)
	}
	return h
}

func TestNewPriceHistory(t *testing.T) {
	monday, tuesday := utc(t, "2026-03-02 00:00:00"), utc(t, "2026-03-03 00:00:00")
	cases := map[string]struct {
		periods []PricePeriod
		want    PriceHistory
		wantErr error
	}{
		"sorted by Since": {
			periods: []PricePeriod{{Since: tuesday, PerHour: "3"}, {Since: monday, PerHour: "2.5"}},
			want:    PriceHistory{{Since: monday, PerHour: "2.5"}, {Since: tuesday, PerHour: "3"}},
		},
		"prices in canonical text": {
			periods: []PricePeriod{{Since: monday, PerHour: "2.50"}, {Since: tuesday, PerHour: "3e0"}},
			want:    PriceHistory{{Since: monday, PerHour: "2.5"}, {Since: tuesday, PerHour: "3"}},
		},
		"the same price written twice is one period": {
			periods: []PricePeriod{{Since: monday, PerHour: "2.5"}, {Since: tuesday, PerHour: "2.50"}},
			want:    PriceHistory{{Since: monday, PerHour: "2.5"}},
		},
		"two edits in one second: the last wins": {
			periods: []PricePeriod{{Since: monday, PerHour: "2"}, {Since: monday.Add(300 * time.Millisecond), PerHour: "4"}},
			want:    PriceHistory{{Since: monday, PerHour: "4"}},
		},
		"Since counts from its whole second": {
			periods: []PricePeriod{{Since: monday.Add(1999 * time.Millisecond), PerHour: "1"}},
			want:    PriceHistory{{Since: monday.Add(time.Second), PerHour: "1"}},
		},
		"a price removed, then set again": {
			periods: []PricePeriod{{Since: monday, PerHour: "2.5"}, {Since: monday.Add(time.Hour), PerHour: Unpriced}, {Since: tuesday, PerHour: "2.5"}},
			want:    PriceHistory{{Since: monday, PerHour: "2.5"}, {Since: monday.Add(time.Hour), PerHour: Unpriced}, {Since: tuesday, PerHour: "2.5"}},
		},
		"unpriced at first is what no period means": {
			periods: []PricePeriod{{Since: monday, PerHour: Unpriced}, {Since: tuesday, PerHour: "1"}},
			want:    PriceHistory{{Since: tuesday, PerHour: "1"}},
		},
		"a free product is priced at 0, not unpriced": {
			periods: []PricePeriod{{Since: monday, PerHour: "0.0"}},
			want:    PriceHistory{{Since: monday, PerHour: "0"}},
		},
		"no periods: never priced": {want: PriceHistory{}},
		"a negative price is refused": {
			periods: []PricePeriod{{Since: monday, PerHour: "-2.5"}}, wantErr: ErrNegative,
		},
		"a price that is not a number is refused": {
			periods: []PricePeriod{{Since: monday, PerHour: "two"}}, wantErr: ErrNotANumber,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := NewPriceHistory(tc.periods...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("NewPriceHistory error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); err == nil && diff != "" {
				t.Errorf("NewPriceHistory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPriceAt(t *testing.T) {
	change := utc(t, "2026-03-04 12:00:00")
	h := history(t, PricePeriod{Since: utc(t, "2026-03-01 00:00:00"), PerHour: "2.5"}, PricePeriod{Since: change, PerHour: "4"})
	cases := map[string]struct {
		t    time.Time
		want doradev1.Amount
	}{
		"before the first price: unpriced":           {t: utc(t, "2026-02-28 23:59:59"), want: Unpriced},
		"from the first price's second":              {t: utc(t, "2026-03-01 00:00:00"), want: "2.5"},
		"the last second of the old price":           {t: change.Add(-time.Nanosecond), want: "2.5"},
		"the new price applies from its very second": {t: change, want: "4"},
		"and after it": {t: change.Add(48 * time.Hour), want: "4"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := h.At(tc.t); got != tc.want {
				t.Errorf("At(%s) = %q, want %q", tc.t, got, tc.want)
			}
		})
	}
}

func TestPriceSplit(t *testing.T) {
	t0 := utc(t, "2026-03-02 10:00:00")
	hour := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	h := history(t,
		PricePeriod{Since: hour(0), PerHour: "2.5"},
		PricePeriod{Since: hour(2), PerHour: "4"},
		PricePeriod{Since: hour(3), PerHour: Unpriced},
		PricePeriod{Since: hour(5), PerHour: "1"},
	)
	cases := map[string]struct {
		h        PriceHistory
		from, to time.Time
		want     []PricedInterval
	}{
		"no change inside: one piece": {
			h: h, from: hour(0), to: hour(1),
			want: []PricedInterval{{From: hour(0), To: hour(1), PerHour: "2.5"}},
		},
		"a price change mid-interval cuts it at the change": {
			h: h, from: hour(1), to: hour(2).Add(30 * time.Minute),
			want: []PricedInterval{
				{From: hour(1), To: hour(2), PerHour: "2.5"},
				{From: hour(2), To: hour(2).Add(30 * time.Minute), PerHour: "4"},
			},
		},
		"a change at the start leaves no empty piece": {
			h: h, from: hour(2), to: hour(3),
			want: []PricedInterval{{From: hour(2), To: hour(3), PerHour: "4"}},
		},
		"every change on the way, unpriced time included": {
			h: h, from: hour(-1), to: hour(6),
			want: []PricedInterval{
				{From: hour(-1), To: hour(0), PerHour: Unpriced},
				{From: hour(0), To: hour(2), PerHour: "2.5"},
				{From: hour(2), To: hour(3), PerHour: "4"},
				{From: hour(3), To: hour(5), PerHour: Unpriced},
				{From: hour(5), To: hour(6), PerHour: "1"},
			},
		},
		"instants count by their whole second": {
			h: h, from: hour(1).Add(1500 * time.Millisecond), to: hour(1).Add(3999 * time.Millisecond),
			want: []PricedInterval{{From: hour(1).Add(time.Second), To: hour(1).Add(3 * time.Second), PerHour: "2.5"}},
		},
		"an interval within one second is empty": {
			h: h, from: hour(1).Add(100 * time.Millisecond), to: hour(1).Add(900 * time.Millisecond),
		},
		"an interval backwards is empty": {h: h, from: hour(2), to: hour(1)},
		"a product never priced is unpriced throughout": {
			from: hour(0), to: hour(1),
			want: []PricedInterval{{From: hour(0), To: hour(1), PerHour: Unpriced}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.h.Split(tc.from, tc.to)); diff != "" {
				t.Errorf("Split (-want +got):\n%s", diff)
			}
		})
	}
}
