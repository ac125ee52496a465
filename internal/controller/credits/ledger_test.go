package credits

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

func TestDisplay(t *testing.T) {
	cases := map[string]struct {
		n    credits.Number
		want doradev1.Amount
	}{
		"an integer":                 {n: credits.Int(500), want: "500"},
		"no trailing zeros":          {n: credits.Ratio(5, 2), want: "2.5"},
		"rounded at six places only": {n: credits.Ratio(1, 1440), want: "0.000694"},
		"zero":                       {n: credits.Number{}, want: "0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := display(tc.n); got != tc.want {
				t.Errorf("display = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLedgerRoundTrip(t *testing.T) {
	l := credits.NewLedger(t0)
	l.Add(credits.Entry{Product: "A100", PerHour: "2.5", GPUSeconds: 7200})
	l.Closed = []string{"a", "b"}
	z := doradev1.ZoneCredits{WeekStart: &metav1.Time{Time: t0}, Ledger: writeLedger(l)}
	got, err := readLedger(&z, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, got); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	if empty, _ := readLedger(&doradev1.ZoneCredits{}, t0); !empty.Start.Equal(t0) || len(empty.Entries) != 0 {
		t.Errorf("a status without a ledger = %+v, want an empty week from %s", empty, t0)
	}
}

func TestRollWeek(t *testing.T) {
	week := credits.DefaultWeek()
	start := week.Start(t0)
	old := credits.NewLedger(start)
	old.Closed = []string{"a"}
	total := old
	total.Add(credits.Entry{Product: "A100", PerHour: "1", GPUSeconds: 3600})
	full := make([]doradev1.WeekCredits, historyWeeks)
	cases := map[string]struct {
		now         time.Time
		total       credits.Ledger
		history     []doradev1.WeekCredits
		rolled      bool
		wantHistory int
	}{
		"within the week nothing rolls":       {now: t0, total: total},
		"past the reset the week is archived": {now: week.Next(start), total: total, rolled: true, wantHistory: 1},
		"an empty week leaves no entry":       {now: week.Next(start), total: old, rolled: true},
		"only the last eight weeks are kept":  {now: week.Next(start), total: total, history: full, rolled: true, wantHistory: historyWeeks},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, history, rolled := rollWeek(old, tc.total, tc.history, week, tc.now)
			if rolled != tc.rolled || len(history) != tc.wantHistory {
				t.Fatalf("rolled = %v with %d weeks, want %v with %d", rolled, len(history), tc.rolled, tc.wantHistory)
			}
			if rolled {
				if !l.Start.Equal(week.Start(tc.now)) || len(l.Closed) != 0 {
					t.Errorf("new ledger = %+v, want an empty one from %s", l, week.Start(tc.now))
				}
				if tc.wantHistory > 0 && (history[0].Products[0].Credits != "1" || !history[0].WeekStart.Time.Equal(start)) {
					t.Errorf("archived week = %+v, want 1 credit of A100 from %s", history[0], start)
				}
			}
		})
	}
}
