package credits

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBurnRate(t *testing.T) {
	now := utc(t, "2026-03-04 12:00:00")
	prices := Prices{
		v100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "2.5"}, PricePeriod{Since: now.Add(time.Hour), PerHour: "9"}),
		a100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "4"}),
	}
	cases := map[string]struct {
		pods []PodUsage
		want Number
	}{
		"no pods burn nothing": {want: Int(0)},
		"the seed's 2 V100s burn 5 an hour": {
			pods: []PodUsage{{Product: v100, GPUs: 2, Start: now.Add(-time.Hour)}},
			want: Int(5),
		},
		"a mixed node: each pod at its model's price": {
			pods: []PodUsage{{Product: v100, GPUs: 1, Start: now}, {Product: a100, GPUs: 2, Start: now}},
			want: Ratio(21, 2),
		},
		"ended, unstarted and unpriced pods burn nothing": {
			pods: []PodUsage{
				{Product: v100, GPUs: 1, Start: now.Add(-time.Hour), End: now},
				{Product: v100, GPUs: 1, Start: now.Add(time.Minute)},
				{Product: "Quadro RTX 6000", GPUs: 8, Start: now},
			},
			want: Int(0),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := BurnRate(tc.pods, now, prices); !got.Equal(tc.want) {
				t.Errorf("BurnRate = %s, want %s", got.Rat().RatString(), tc.want.Rat().RatString())
			}
		})
	}
}

func TestPredict(t *testing.T) {
	now := utc(t, "2026-03-02 00:00:00")
	reset := utc(t, "2026-03-08 00:00:00")
	in := func(d time.Duration) time.Time { return now.Add(d) }
	cases := map[string]struct {
		used, weekly, perHour Number
		now                   time.Time
		want                  Forecast
	}{
		"the seed's week: 500 credits at 5 an hour last 100 hours": {
			used: Int(0), weekly: Int(500), perHour: Int(5), now: now,
			want: Forecast{
				Remaining: Int(500), ExhaustsAt: in(100 * time.Hour),
				Low:     Threshold{Percent: 80, At: in(80 * time.Hour)},
				VeryLow: Threshold{Percent: 90, At: in(90 * time.Hour)},
				Reset:   reset,
			},
		},
		"exhaustion is ceiled to the second: 1 credit at 7 an hour is 514.28... s, so 515 s": {
			used: Int(0), weekly: Int(1), perHour: Int(7), now: now,
			want: Forecast{
				Remaining: Int(1), ExhaustsAt: in(515 * time.Second),
				Low:     Threshold{Percent: 80, At: in(412 * time.Second)}, // 411.43 s
				VeryLow: Threshold{Percent: 90, At: in(463 * time.Second)}, // 462.86 s
				Reset:   reset,
			},
		},
		"an exact second is not ceiled further: 1 credit at 2.5 an hour is 1440 s": {
			used: Int(0), weekly: Int(1), perHour: Ratio(5, 2), now: now,
			want: Forecast{
				Remaining: Int(1), ExhaustsAt: in(1440 * time.Second),
				Low:     Threshold{Percent: 80, At: in(1152 * time.Second)},
				VeryLow: Threshold{Percent: 90, At: in(1296 * time.Second)},
				Reset:   reset,
			},
		},
		"counted from now's whole second": {
			used: Int(0), weekly: Int(1), perHour: Ratio(5, 2), now: now.Add(999 * time.Millisecond),
			want: Forecast{
				Remaining: Int(1), ExhaustsAt: in(1440 * time.Second),
				Low:     Threshold{Percent: 80, At: in(1152 * time.Second)},
				VeryLow: Threshold{Percent: 90, At: in(1296 * time.Second)},
				Reset:   reset,
			},
		},
		"no pods running: no prediction": {
			used: Int(100), weekly: Int(500), perHour: Int(0), now: now,
			want: Forecast{Remaining: Int(400), Low: Threshold{Percent: 80}, VeryLow: Threshold{Percent: 90}, Reset: reset},
		},
		"past 80%: reached now, 90% and the end still ahead": {
			used: Int(425), weekly: Int(500), perHour: Int(5), now: now,
			want: Forecast{
				Remaining: Int(75), ExhaustsAt: in(15 * time.Hour),
				Low:     Threshold{Percent: 80, Reached: true, At: now},
				VeryLow: Threshold{Percent: 90, At: in(5 * time.Hour)},
				Reset:   reset,
			},
		},
		"overspent: exhausted now, and remaining is never below zero": {
			used: Ratio(10001, 20), weekly: Int(500), perHour: Int(5), now: now,
			want: Forecast{
				Remaining: Int(0), Exhausted: true, ExhaustsAt: now,
				Low:     Threshold{Percent: 80, Reached: true, At: now},
				VeryLow: Threshold{Percent: 90, Reached: true, At: now},
				Reset:   reset,
			},
		},
		"exactly spent is exhausted": {
			used: Int(500), weekly: Int(500), perHour: Int(0), now: now,
			want: Forecast{
				Remaining: Int(0), Exhausted: true, ExhaustsAt: now,
				Low:     Threshold{Percent: 80, Reached: true, At: now},
				VeryLow: Threshold{Percent: 90, Reached: true, At: now},
				Reset:   reset,
			},
		},
		"a budget of 0 is exhausted": {
			used: Int(0), weekly: Int(0), perHour: Int(0), now: now,
			want: Forecast{
				Remaining: Int(0), Exhausted: true, ExhaustsAt: now,
				Low:     Threshold{Percent: 80, Reached: true, At: now},
				VeryLow: Threshold{Percent: 90, Reached: true, At: now},
				Reset:   reset,
			},
		},
		"not before the reset: nothing to predict this week": {
			used: Int(0), weekly: Int(500), perHour: Int(1), now: now,
			want: Forecast{Remaining: Int(500), Low: Threshold{Percent: 80}, VeryLow: Threshold{Percent: 90}, Reset: reset},
		},
		"an absurdly slow rate is never": {
			used: Int(0), weekly: Int(1_000_000_000), perHour: Ratio(1, 1_000_000_000_000_000_000), now: now,
			want: Forecast{Remaining: Int(1_000_000_000), Low: Threshold{Percent: 80}, VeryLow: Threshold{Percent: 90}, Reset: reset},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Predict(tc.used, tc.weekly, tc.perHour, tc.now, reset)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Predict (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExhaustionAtThePredictedSecond: the pods keep running; one second before the predicted
// instant the week's total is under the budget, at it the total has reached it.
func TestExhaustionAtThePredictedSecond(t *testing.T) {
	week := DefaultWeek()
	start := utc(t, "2026-03-08 00:00:00")
	now := start.Add(3*time.Hour + 250*time.Millisecond)
	prices := Prices{
		v100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "2.5"}),
		a100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "0.7"}),
	}
	cases := map[string]struct {
		weekly Number
		live   []PodUsage
		closed []PodUsage
	}{
		"the seed's example: 2 V100s exhaust 500 credits in 100 hours": {
			weekly: Int(500),
			live:   []PodUsage{{UID: "a", Product: v100, GPUs: 2, Start: start}},
		},
		"an uneven rate on a mixed node, with time already closed": {
			weekly: Ratio(13, 2),
			live:   []PodUsage{{UID: "a", Product: a100, GPUs: 3, Start: start.Add(time.Hour)}, {UID: "b", Product: v100, GPUs: 1, Start: now.Add(-7 * time.Second)}},
			closed: []PodUsage{{UID: "c", Product: v100, GPUs: 1, Start: start, End: start.Add(77 * time.Second)}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := NewLedger(start)
			for _, p := range tc.closed {
				if _, err := l.Close(p, week, prices); err != nil {
					t.Fatal(err)
				}
			}
			used := Total(l, tc.live, week, now, prices).Credits()
			f := Predict(used, tc.weekly, BurnRate(tc.live, now, prices), now, week.Next(now))
			if used.Cmp(tc.weekly) >= 0 || f.ExhaustsAt.IsZero() {
				t.Fatalf("used %s of %s at now: no exhaustion ahead to predict", used, tc.weekly)
			}
			before := Total(l, tc.live, week, f.ExhaustsAt.Add(-time.Second), prices).Credits()
			atIt := Total(l, tc.live, week, f.ExhaustsAt, prices).Credits()
			if before.Cmp(tc.weekly) >= 0 || atIt.Cmp(tc.weekly) < 0 {
				t.Errorf("exhaustion predicted at %s: a second before %s used, at it %s, of %s",
					f.ExhaustsAt, before.Rat().RatString(), atIt.Rat().RatString(), tc.weekly.Rat().RatString())
			}
		})
	}
}

func TestForecastNext(t *testing.T) {
	now := utc(t, "2026-03-02 00:00:00")
	reset := utc(t, "2026-03-08 00:00:00")
	cases := map[string]struct {
		used, perHour Number
		want          time.Time
	}{
		"the next threshold ahead":                  {used: Int(0), perHour: Int(5), want: now.Add(80 * time.Hour)},
		"past 80%: the next is 90%":                 {used: Int(425), perHour: Int(5), want: now.Add(5 * time.Hour)},
		"past 90%: the budget's end":                {used: Int(475), perHour: Int(5), want: now.Add(5 * time.Hour)},
		"nothing running: the reset":                {used: Int(10), perHour: Int(0), want: reset},
		"exhausted: only the reset changes a thing": {used: Int(600), perHour: Int(5), want: reset},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Predict(tc.used, Int(500), tc.perHour, now, reset).Next(now); !got.Equal(tc.want) {
				t.Errorf("Next = %s, want %s", got, tc.want)
			}
		})
	}
}
