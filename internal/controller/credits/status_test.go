package credits

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

func weekWith(budget int64, used int64, rate int64) week {
	l := credits.NewLedger(t0)
	l.Add(credits.Entry{Product: "A100", PerHour: "1", GPUSeconds: used * 3600})
	return week{budget: credits.Int(budget), has: true, ledger: l, total: l, rate: credits.Int(rate), reset: t0.Add(24 * time.Hour)}
}

func TestConditions(t *testing.T) {
	cases := map[string]struct {
		w                          week
		exhausted, low, unpriced   metav1.ConditionStatus
		exhaustedReason, lowReason string
	}{
		"plenty left": {w: weekWith(100, 10, 0), exhausted: "False", low: "False", unpriced: "False",
			exhaustedReason: doradev1.ReasonBudgetLeft, lowReason: doradev1.ReasonCreditsPlenty},
		"80% spent": {w: weekWith(100, 80, 0), exhausted: "False", low: "True", unpriced: "False",
			exhaustedReason: doradev1.ReasonBudgetLeft, lowReason: doradev1.ReasonCreditsLow},
		"90% spent": {w: weekWith(100, 95, 0), exhausted: "False", low: "True", unpriced: "False",
			exhaustedReason: doradev1.ReasonBudgetLeft, lowReason: doradev1.ReasonCreditsVeryLow},
		"all spent": {w: weekWith(100, 100, 0), exhausted: "True", low: "True", unpriced: "False",
			exhaustedReason: doradev1.ReasonBudgetSpent, lowReason: doradev1.ReasonCreditsVeryLow},
		"no budget here: metered, never exhausted": {w: week{ledger: credits.NewLedger(t0), reset: t0.Add(time.Hour)}, exhausted: "False", low: "False", unpriced: "False",
			exhaustedReason: doradev1.ReasonNoBudget, lowReason: doradev1.ReasonCreditsPlenty},
		"no budget here and one required: held, and no CreditsLow for a budget never given": {
			w:         week{has: true, required: true, ledger: credits.NewLedger(t0), total: credits.NewLedger(t0), reset: t0.Add(time.Hour)},
			exhausted: "True", low: "False", unpriced: "False",
			exhaustedReason: doradev1.ReasonBudgetRequired, lowReason: doradev1.ReasonCreditsPlenty},
		"an unpriced product is said": {w: func() week { w := weekWith(100, 0, 0); w.unpriced = []string{"T4"}; return w }(),
			exhausted: "False", low: "False", unpriced: "True", exhaustedReason: doradev1.ReasonBudgetLeft, lowReason: doradev1.ReasonCreditsPlenty},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var conds []metav1.Condition
			setConditions(&conds, tc.w, tc.w.forecast(t0), 1)
			for _, want := range []struct {
				typ    string
				status metav1.ConditionStatus
				reason string
			}{{doradev1.CreditsExhausted, tc.exhausted, tc.exhaustedReason}, {doradev1.CreditsLow, tc.low, tc.lowReason}, {doradev1.Unpriced, tc.unpriced, ""}} {
				c := meta.FindStatusCondition(conds, want.typ)
				if c == nil || c.Status != want.status || want.reason != "" && c.Reason != want.reason {
					t.Errorf("%s = %+v, want %s %s", want.typ, c, want.status, want.reason)
				}
			}
		})
	}
}

// While the same pods run at the same prices only what a reader extrapolates changes: no
// write. Anything else is one.
func TestSameButTime(t *testing.T) {
	w := weekWith(100, 10, 4)
	base := zoneStatus("z", w, w.forecast(t0), nil, 0, t0)
	later := weekWith(100, 10, 4)
	later.total.Add(credits.Entry{Product: "A100", PerHour: "1", GPUSeconds: 4 * 3600}) // 4 credits an hour
	cases := map[string]struct {
		other doradev1.ZoneCredits
		same  bool
	}{
		"an hour later, same pods": {other: zoneStatus("z", later, later.forecast(t0.Add(time.Hour)), nil, 0, t0.Add(time.Hour)), same: true},
		"another burn rate": {other: func() doradev1.ZoneCredits {
			w := weekWith(100, 10, 8)
			return zoneStatus("z", w, w.forecast(t0), nil, 0, t0)
		}()},
		"a closed pod": {other: func() doradev1.ZoneCredits {
			w := weekWith(100, 10, 4)
			w.ledger.Closed = []string{"a"}
			return zoneStatus("z", w, w.forecast(t0), nil, 0, t0)
		}()},
		"a threshold announced": {other: zoneStatus("z", w, w.forecast(t0), nil, 80, t0)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := sameButTime(base, tc.other); got != tc.same {
				t.Errorf("sameButTime = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestLowThreshold(t *testing.T) {
	for used, want := range map[int64]int32{0: 0, 79: 0, 80: 80, 89: 80, 90: 90, 120: 90} {
		w := weekWith(100, used, 0)
		if got := lowThreshold(w.forecast(t0), true); got != want {
			t.Errorf("%d spent: threshold %d, want %d", used, got, want)
		}
	}
	if got := lowThreshold(credits.Forecast{}, false); got != 0 {
		t.Errorf("no budget: threshold %d, want 0", got)
	}
}
