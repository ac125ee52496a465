package credits

import (
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

// historyWeeks is how many past weeks a UserCredit keeps (its MaxItems).
const historyWeeks = 8

// displayPlaces is how many decimal places the status shows of credits and GPU-hours; the
// ledger itself is exact (GPU-seconds).
const displayPlaces = 6

// display is n for the status, rounded to displayPlaces, without trailing zeros.
func display(n credits.Number) doradev1.Amount {
	s := n.Format(displayPlaces)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return doradev1.Amount(s)
}

// readLedger is the ledger a zone's status holds; a status with none (or a broken one) is
// an empty ledger of the week that began at start.
func readLedger(z *doradev1.ZoneCredits, start time.Time) (credits.Ledger, error) {
	if z.WeekStart == nil {
		return credits.NewLedger(start), nil
	}
	l := credits.NewLedger(z.WeekStart.Time)
	for _, e := range z.Ledger.Entries {
		l.Entries = append(l.Entries, credits.Entry{Product: e.Product, PerHour: e.PerHour, GPUSeconds: e.GPUSeconds})
	}
	l.Closed = slices.Clone(z.Ledger.Closed)
	return l, l.Check()
}

// writeLedger is the ledger as the status keeps it.
func writeLedger(l credits.Ledger) doradev1.CreditLedger {
	var out doradev1.CreditLedger
	for _, e := range l.Entries {
		out.Entries = append(out.Entries, doradev1.LedgerEntry{Product: e.Product, PerHour: e.PerHour, GPUSeconds: e.GPUSeconds})
	}
	out.Closed = slices.Clone(l.Closed)
	return out
}

// productCredits is a ledger's per-product breakdown for the status.
func productCredits(l credits.Ledger) []doradev1.ProductCredits {
	var out []doradev1.ProductCredits
	for _, p := range l.Breakdown() {
		out = append(out, doradev1.ProductCredits{Product: p.Product, GPUHours: display(p.GPUHours), Credits: display(p.Credits)})
	}
	return out
}

// rollWeek archives the week of l into history (newest first, historyWeeks kept) when now
// is past it, and starts the ledger of now's week. total is l's week in full: the ledger
// and the part of the live pods' time that fell in it. A week without any charge leaves no
// entry. rolled is false when l is now's week.
func rollWeek(l, total credits.Ledger, history []doradev1.WeekCredits, week credits.Week, now time.Time) (credits.Ledger, []doradev1.WeekCredits, bool) {
	start := week.Start(now)
	if !l.Start.Before(start) {
		return l, history, false
	}
	if len(total.Entries) > 0 {
		history = append([]doradev1.WeekCredits{{WeekStart: metav1.NewTime(l.Start), Products: productCredits(total)}}, history...)
	}
	if len(history) > historyWeeks {
		history = history[:historyWeeks]
	}
	return credits.NewLedger(start), history, true
}
