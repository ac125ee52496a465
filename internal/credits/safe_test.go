package credits

import (
	"testing"
	"time"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Safe mode starts a workload only if its owner can pay for all of it: replicas x GPUs x
// the highest price it may get x how long it may run.
func TestSafeCheck(t *testing.T) {
	cases := []struct {
		name  string
		check SafeCheck
		left  string
		cost  string
		fits  bool
	}{
		{"4 GPUs at 2.5 for 2 h cost 20: 20 left is enough", SafeCheck{4, num(t, "2.5"), 2 * time.Hour}, "20", "20", true},
		{"one credit short", SafeCheck{4, num(t, "2.5"), 2 * time.Hour}, "19.99", "20", false},
		{"seconds count exactly: 90 s of 1 GPU at 3600 an hour", SafeCheck{1, num(t, "3600"), 90 * time.Second}, "89", "90", false},
		{"a fraction of a second is not charged", SafeCheck{1, num(t, "3600"), 1500 * time.Millisecond}, "1", "1", true},
		{"free products always fit", SafeCheck{8, Number{}, 100 * time.Hour}, "0", "0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.check.Cost().String(); got != num(t, doradev1.Amount(tc.cost)).String() {
				t.Errorf("cost = %s, want %s", got, tc.cost)
			}
			if got := tc.check.Fits(num(t, doradev1.Amount(tc.left))); got != tc.fits {
				t.Errorf("fits %s left = %v, want %v", tc.left, got, tc.fits)
			}
		})
	}
}

// What is left now is the status's remaining, less what the running pods burnt since asOf.
func TestLeftAt(t *testing.T) {
	asOf := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name            string
		remaining, rate string
		now             time.Time
		want            string
	}{
		{"at asOf", "100", "36", asOf, "100"},
		{"ten minutes later at 36 an hour", "100", "36", asOf.Add(10 * time.Minute), "94"},
		{"never below zero", "1", "3600", asOf.Add(time.Hour), "0"},
		{"a clock behind asOf reads asOf", "100", "36", asOf.Add(-time.Minute), "100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := LeftAt(num(t, doradev1.Amount(tc.remaining)), num(t, doradev1.Amount(tc.rate)), asOf, tc.now)
			if !got.Equal(num(t, doradev1.Amount(tc.want))) {
				t.Errorf("left = %s, want %s", got, tc.want)
			}
		})
	}
}
