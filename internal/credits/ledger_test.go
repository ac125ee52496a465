package credits

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLedgerAdd(t *testing.T) {
	cases := map[string]struct {
		add  [][]Entry
		want []Entry
	}{
		"one product at one price merges": {
			add:  [][]Entry{{{Product: v100, PerHour: "2.5", GPUSeconds: 10}}, {{Product: v100, PerHour: "2.5", GPUSeconds: 5}}},
			want: []Entry{{Product: v100, PerHour: "2.5", GPUSeconds: 15}},
		},
		"a price change keeps each price apart": {
			add:  [][]Entry{{{Product: v100, PerHour: "3", GPUSeconds: 1}, {Product: v100, PerHour: "2.5", GPUSeconds: 2}}},
			want: []Entry{{Product: v100, PerHour: "2.5", GPUSeconds: 2}, {Product: v100, PerHour: "3", GPUSeconds: 1}},
		},
		"sorted by product, unpriced time first": {
			add: [][]Entry{{{Product: v100, PerHour: "2.5", GPUSeconds: 1}, {Product: a100, PerHour: "4", GPUSeconds: 1}, {Product: v100, PerHour: Unpriced, GPUSeconds: 1}}},
			want: []Entry{
				{Product: a100, PerHour: "4", GPUSeconds: 1},
				{Product: v100, PerHour: Unpriced, GPUSeconds: 1},
				{Product: v100, PerHour: "2.5", GPUSeconds: 1},
			},
		},
		"nothing to add leaves no entry": {add: [][]Entry{{{Product: v100, PerHour: "2.5"}}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := NewLedger(utc(t, "2026-03-01 00:00:00"))
			for _, entries := range tc.add {
				l.Add(entries...)
			}
			if diff := cmp.Diff(tc.want, l.Entries); diff != "" {
				t.Errorf("Entries (-want +got):\n%s", diff)
			}
			if err := l.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

func TestLedgerCopiesAreIndependent(t *testing.T) {
	l := NewLedger(utc(t, "2026-03-01 00:00:00"))
	l.Add(Entry{Product: v100, PerHour: "2.5", GPUSeconds: 10})
	snapshot := l
	l.Add(Entry{Product: v100, PerHour: "2.5", GPUSeconds: 5}, Entry{Product: a100, PerHour: "4", GPUSeconds: 1})
	if _, err := l.Close(PodUsage{UID: "b", GPUs: 1, Product: v100, Start: l.Start, End: l.Start.Add(time.Second)}, DefaultWeek(), nil); err != nil {
		t.Fatal(err)
	}
	want := Ledger{Start: l.Start, Entries: []Entry{{Product: v100, PerHour: "2.5", GPUSeconds: 10}}}
	if diff := cmp.Diff(want, snapshot); diff != "" {
		t.Errorf("a copy changed with the original (-want +got):\n%s", diff)
	}
}

func TestLedgerClose(t *testing.T) {
	week := DefaultWeek()
	lastWeek, reset := utc(t, "2026-03-01 00:00:00"), utc(t, "2026-03-08 00:00:00")
	prices := Prices{v100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "2.5"})}
	across := PodUsage{UID: "across", Product: v100, GPUs: 2, Start: reset.Add(-time.Hour), End: reset.Add(30 * time.Minute)}

	t.Run("closing twice adds once, and the answers say so", func(t *testing.T) {
		l := NewLedger(lastWeek)
		pod := PodUsage{UID: "a", Product: v100, GPUs: 1, Start: utc(t, "2026-03-02 10:00:00"), End: utc(t, "2026-03-02 11:00:00")}
		first, err := l.Close(pod, week, prices)
		if err != nil || !first {
			t.Fatalf("first Close = %v, %v; want true", first, err)
		}
		once := l
		second, err := l.Close(pod, week, prices)
		if err != nil || second {
			t.Fatalf("second Close = %v, %v; want false", second, err)
		}
		if diff := cmp.Diff(once, l); diff != "" {
			t.Errorf("closing again changed the ledger (-once +twice):\n%s", diff)
		}
		if !l.Credits().Equal(Ratio(5, 2)) || !l.IsClosed("a") {
			t.Errorf("Credits = %s, IsClosed = %v; want 2.5 and true", l.Credits(), l.IsClosed("a"))
		}
	})
	t.Run("a pod across the reset is closed in each week for its own part", func(t *testing.T) {
		old, current := NewLedger(lastWeek), NewLedger(reset)
		for _, l := range []*Ledger{&old, &current} {
			if _, err := l.Close(across, week, prices); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := old.GPUSeconds(), int64(2*3600); got != want {
			t.Errorf("old week: %d GPU-seconds, want %d", got, want)
		}
		if got, want := current.GPUSeconds(), int64(2*1800); got != want {
			t.Errorf("new week: %d GPU-seconds, want %d", got, want)
		}
	})
	t.Run("closing in random order, with repeats, gives the same ledger", func(t *testing.T) {
		pods := []PodUsage{
			{UID: "c", Product: v100, GPUs: 1, Start: lastWeek.Add(time.Hour), End: lastWeek.Add(2 * time.Hour)},
			{UID: "a", Product: v100, GPUs: 3, Start: lastWeek.Add(time.Minute), End: lastWeek.Add(9 * time.Minute)},
			{UID: "b", Product: a100, GPUs: 1, Start: lastWeek.Add(time.Second), End: lastWeek.Add(4 * time.Second)},
		}
		forward, backward := NewLedger(lastWeek), NewLedger(lastWeek)
		for _, p := range append(pods, pods...) {
			_, _ = forward.Close(p, week, prices)
		}
		for i := len(pods) - 1; i >= 0; i-- {
			_, _ = backward.Close(pods[i], week, prices)
			_, _ = backward.Close(pods[i], week, prices)
		}
		if diff := cmp.Diff(forward, backward); diff != "" {
			t.Errorf("(-forward +backward):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"a", "b", "c"}, forward.Closed); diff != "" {
			t.Errorf("Closed (-want +got):\n%s", diff)
		}
	})
	t.Run("a running pod cannot be closed", func(t *testing.T) {
		l := NewLedger(lastWeek)
		_, err := l.Close(PodUsage{UID: "r", Product: v100, GPUs: 1, Start: lastWeek}, week, prices)
		if err == nil || !strings.Contains(err.Error(), "pod r is still running") {
			t.Errorf("Close error = %v, want one saying the pod is still running", err)
		}
	})
	t.Run("a pod without a uid cannot be closed", func(t *testing.T) {
		l := NewLedger(lastWeek)
		if _, err := l.Close(PodUsage{Product: v100, GPUs: 1, Start: lastWeek, End: reset}, week, prices); err == nil {
			t.Error("Close of a pod without a uid: no error")
		}
	})
}

func TestLedgerCredits(t *testing.T) {
	week := DefaultWeek()
	start := utc(t, "2026-03-01 00:00:00")
	prices := Prices{
		v100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "2.5"}),
		a100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "4"}),
	}
	cases := map[string]struct {
		pods          []PodUsage
		wantCredits   Number
		wantDisplay   string
		wantBreakdown []ProductUsage
	}{
		"the seed's example: 2 V100s at 2.5/h for 100 hours are 500 credits exactly": {
			pods:        []PodUsage{{UID: "a", Product: v100, GPUs: 2, Start: start, End: start.Add(100 * time.Hour)}},
			wantCredits: Int(500), wantDisplay: "500.00",
			wantBreakdown: []ProductUsage{{Product: v100, GPUSeconds: 720000, GPUHours: Int(200), Credits: Int(500)}},
		},
		"one GPU-second at 2.5/h is exactly 1/1440, displayed as 0.00": {
			pods:        []PodUsage{{UID: "a", Product: v100, GPUs: 1, Start: start, End: start.Add(time.Second)}},
			wantCredits: Ratio(1, 1440), wantDisplay: "0.00",
			wantBreakdown: []ProductUsage{{Product: v100, GPUSeconds: 1, GPUHours: Ratio(1, 3600), Credits: Ratio(1, 1440)}},
		},
		"a mixed node: two pods hold different models, each at its own price": {
			pods: []PodUsage{
				{UID: "a", Product: v100, GPUs: 1, Start: start, End: start.Add(time.Hour)},
				{UID: "b", Product: a100, GPUs: 3, Start: start, End: start.Add(30 * time.Minute)},
			},
			wantCredits: Ratio(17, 2), wantDisplay: "8.50", // 1 x 2.5 + 3 x 0.5 x 4
			wantBreakdown: []ProductUsage{
				{Product: a100, GPUSeconds: 5400, GPUHours: Ratio(3, 2), Credits: Int(6)},
				{Product: v100, GPUSeconds: 3600, GPUHours: Int(1), Credits: Ratio(5, 2)},
			},
		},
		"unpriced time is metered, costs nothing and is told apart": {
			pods: []PodUsage{
				{UID: "a", Product: "Quadro RTX 6000", GPUs: 2, Start: start, End: start.Add(time.Hour)},
			},
			wantCredits: Int(0), wantDisplay: "0.00",
			wantBreakdown: []ProductUsage{{Product: "Quadro RTX 6000", GPUSeconds: 7200, GPUHours: Int(2), Credits: Int(0), UnpricedGPUSeconds: 7200}},
		},
		"an empty week": {wantCredits: Int(0), wantDisplay: "0.00"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := NewLedger(start)
			for _, p := range tc.pods {
				if _, err := l.Close(p, week, prices); err != nil {
					t.Fatal(err)
				}
			}
			if got := l.Credits(); !got.Equal(tc.wantCredits) || got.String() != tc.wantDisplay {
				t.Errorf("Credits = %s (%s), want %s (%s)", got.Rat().RatString(), got, tc.wantCredits.Rat().RatString(), tc.wantDisplay)
			}
			if diff := cmp.Diff(tc.wantBreakdown, l.Breakdown()); diff != "" {
				t.Errorf("Breakdown (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTotal(t *testing.T) {
	week := DefaultWeek()
	lastWeek, start := utc(t, "2026-03-01 00:00:00"), utc(t, "2026-03-08 00:00:00")
	prices := Prices{v100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "2.5"})}
	closed := NewLedger(start)
	done := PodUsage{UID: "done", Product: v100, GPUs: 1, Start: start, End: start.Add(time.Hour)}
	if _, err := closed.Close(done, week, prices); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		ledger Ledger
		live   []PodUsage
		now    time.Time
		want   int64 // GPU-seconds
	}{
		"the ledger alone": {ledger: closed, now: start.Add(2 * time.Hour), want: 3600},
		"plus a running pod up to now": {
			ledger: closed, now: start.Add(2 * time.Hour),
			live: []PodUsage{{UID: "run", Product: v100, GPUs: 2, Start: start.Add(90 * time.Minute)}},
			want: 3600 + 2*1800,
		},
		"plus an ended pod not yet closed": {
			ledger: closed, now: start.Add(2 * time.Hour),
			live: []PodUsage{{UID: "ended", Product: v100, GPUs: 1, Start: start, End: start.Add(time.Minute)}},
			want: 3600 + 60,
		},
		"a closed pod still listed is not counted again": {
			ledger: closed, now: start.Add(2 * time.Hour), live: []PodUsage{done}, want: 3600,
		},
		"a pod started last week counts from the reset": {
			ledger: NewLedger(start), now: start.Add(time.Hour),
			live: []PodUsage{{UID: "old", Product: v100, GPUs: 1, Start: lastWeek.Add(24 * time.Hour)}},
			want: 3600,
		},
		"a past week counts its live pods up to its end, not now": {
			ledger: NewLedger(lastWeek), now: start.Add(5 * time.Hour),
			live: []PodUsage{{UID: "old", Product: v100, GPUs: 1, Start: start.Add(-time.Hour)}},
			want: 3600,
		},
		"the manager down for an hour: the hour is charged exactly": {
			ledger: NewLedger(start), now: start.Add(3*time.Hour + 7*time.Second),
			live: []PodUsage{{UID: "run", Product: v100, GPUs: 4, Start: start.Add(2 * time.Hour)}},
			want: 4 * 3607,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := tc.ledger
			got := Total(tc.ledger, tc.live, week, tc.now, prices)
			if got.GPUSeconds() != tc.want {
				t.Errorf("Total: %d GPU-seconds, want %d", got.GPUSeconds(), tc.want)
			}
			if diff := cmp.Diff(before, tc.ledger); diff != "" {
				t.Errorf("Total changed the ledger (-before +after):\n%s", diff)
			}
		})
	}
}

// TestEverySecondCountsOnce: a pod runs across the reset. The old week is archived at the
// reset with the pod's part in it (Total), the pod ends in the new week and is closed there,
// the manager closes it once more after a crash: the two weeks hold exactly the pod's time.
func TestEverySecondCountsOnce(t *testing.T) {
	week := DefaultWeek()
	prices := Prices{v100: history(t, PricePeriod{Since: utc(t, "2026-01-01 00:00:00"), PerHour: "2.5"})}
	reset := utc(t, "2026-03-08 00:00:00")
	pod := PodUsage{UID: "p", Product: v100, GPUs: 2, Start: reset.Add(-3*time.Hour - 17*time.Second)}

	old := NewLedger(week.Start(reset.Add(-time.Second)))
	archived := Total(old, []PodUsage{pod}, week, reset.Add(42*time.Second), prices)

	current := NewLedger(week.Start(reset))
	pod.End = reset.Add(5*time.Hour + 3*time.Second)
	for range 2 {
		if _, err := current.Close(pod, week, prices); err != nil {
			t.Fatal(err)
		}
	}
	want := pod.GPUs * (pod.End.Unix() - pod.Start.Unix())
	if got := archived.GPUSeconds() + current.GPUSeconds(); got != want {
		t.Errorf("the two weeks hold %d GPU-seconds, want %d", got, want)
	}
	if got, want := archived.Credits().Add(current.Credits()), Charge(want, Ratio(5, 2)); !got.Equal(want) {
		t.Errorf("the two weeks cost %s, want %s", got.Rat().RatString(), want.Rat().RatString())
	}
}

func TestLedgerCheck(t *testing.T) {
	start := utc(t, "2026-03-01 00:00:00")
	cases := map[string]struct {
		ledger  Ledger
		wantErr string
	}{
		"a good ledger": {ledger: Ledger{Start: start, Entries: []Entry{{Product: a100, PerHour: "4", GPUSeconds: 1}, {Product: v100, PerHour: Unpriced, GPUSeconds: 1}}, Closed: []string{"a", "b"}}},
		"entries out of order": {
			ledger:  Ledger{Entries: []Entry{{Product: v100, PerHour: "2.5", GPUSeconds: 1}, {Product: a100, PerHour: "4", GPUSeconds: 1}}},
			wantErr: "out of order or repeated",
		},
		"a price not in canonical text": {
			ledger:  Ledger{Entries: []Entry{{Product: v100, PerHour: "2.50", GPUSeconds: 1}}},
			wantErr: `price "2.50" is not written as "2.5"`,
		},
		"a price that is not a number": {
			ledger:  Ledger{Entries: []Entry{{Product: v100, PerHour: "x", GPUSeconds: 1}}},
			wantErr: "not a decimal number",
		},
		"negative time": {
			ledger:  Ledger{Entries: []Entry{{Product: v100, PerHour: "2.5", GPUSeconds: -1}}},
			wantErr: "negative",
		},
		"a pod closed twice": {ledger: Ledger{Closed: []string{"a", "a"}}, wantErr: `closed pod "a"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.ledger.Check()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Check = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if err := (Ledger{Entries: []Entry{{Product: v100, PerHour: "-1", GPUSeconds: 1}}}).Check(); !errors.Is(err, ErrNegative) {
		t.Errorf("Check of a negative price = %v, want ErrNegative", err)
	}
}
