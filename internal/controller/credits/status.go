package credits

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

// week is one user's week in this zone at now, as the accounting sees it.
type week struct {
	// budget is the weekly budget; has is false when the user has none in this zone.
	budget credits.Number
	has    bool
	// required is true when the user has no budget here and the manager requires one: the
	// budget is 0.
	required bool
	// ledger is the week's closed pods; total adds the live pods' time up to now.
	ledger, total credits.Ledger
	// rate is the burn rate at now, in credits an hour.
	rate credits.Number
	// reset is when the week ends.
	reset time.Time
	// unpriced are the products of running pods that have no price, sorted.
	unpriced []string
}

// forecast is where the week stands at now. A user without a budget here is never
// exhausted: the time is metered.
func (w week) forecast(now time.Time) credits.Forecast {
	if !w.has {
		return credits.Forecast{Reset: w.reset}
	}
	return credits.Predict(w.total.Credits(), w.budget, w.rate, now, w.reset)
}

// zoneStatus is the zone's entry of the status at now. The notified threshold is carried
// over within a week and reset with it.
func zoneStatus(zone string, w week, f credits.Forecast, history []doradev1.WeekCredits, lowNotified int32, now time.Time) doradev1.ZoneCredits {
	z := doradev1.ZoneCredits{
		Zone:            zone,
		Used:            display(w.total.Credits()),
		AsOf:            ptrTime(now),
		BurnRatePerHour: display(w.rate),
		WeekStart:       ptrTime(w.ledger.Start),
		NextReset:       ptrTime(w.reset),
		LowNotified:     lowNotified,
		Products:        productCredits(w.total),
		Ledger:          writeLedger(w.ledger),
		History:         history,
	}
	if w.has {
		z.Weekly = display(w.budget)
		z.Remaining = display(f.Remaining)
		z.Exhausted = f.Exhausted
		if !f.Exhausted && !f.ExhaustsAt.IsZero() {
			z.ExhaustsAt = ptrTime(f.ExhaustsAt)
		}
	}
	return z
}

// sameButTime reports whether two zone entries differ only in what grows with time while
// the same pods run at the same prices (used, remaining, the products' totals, asOf): a
// reader extrapolates those from asOf and the burn rate, so they are no reason to write.
func sameButTime(a, b doradev1.ZoneCredits) bool {
	a.Used, a.Remaining, a.Products, a.AsOf = "", "", nil, nil
	b.Used, b.Remaining, b.Products, b.AsOf = "", "", nil, nil
	return equality.Semantic.DeepEqual(a, b)
}

// onlyRate reports whether two zone entries differ only in the burn rate and what follows
// from it (the time the budget runs out) besides what sameButTime ignores: a burst of pods
// starting changes nothing else, and those writes may be batched.
func onlyRate(a, b doradev1.ZoneCredits) bool {
	a.BurnRatePerHour, a.ExhaustsAt = "", nil
	b.BurnRatePerHour, b.ExhaustsAt = "", nil
	return sameButTime(a, b)
}

// lowThreshold is the highest CreditsLow threshold reached: 0, LowPercent or VeryLowPercent.
func lowThreshold(f credits.Forecast, has bool) int32 {
	switch {
	case !has:
		return 0
	case f.VeryLow.Reached:
		return credits.VeryLowPercent
	case f.Low.Reached:
		return credits.LowPercent
	}
	return 0
}

// setConditions sets CreditsExhausted, CreditsLow and Unpriced from the forecast.
func setConditions(conds *[]metav1.Condition, w week, f credits.Forecast, generation int64) {
	exhausted := metav1.Condition{Type: doradev1.CreditsExhausted, Status: metav1.ConditionFalse, ObservedGeneration: generation}
	switch {
	case !w.has:
		exhausted.Reason, exhausted.Message = doradev1.ReasonNoBudget, "No weekly budget in this zone: the time is metered, not limited"
	case w.required:
		exhausted.Status, exhausted.Reason = metav1.ConditionTrue, doradev1.ReasonBudgetRequired
		exhausted.Message = "No weekly budget in this zone, and this zone's manager requires one (--" + credits.FlagRequireBudget + "): workloads are held until an administrator adds this zone to the user's spec.credits"
	case f.Exhausted:
		exhausted.Status, exhausted.Reason = metav1.ConditionTrue, doradev1.ReasonBudgetSpent
		exhausted.Message = fmt.Sprintf("The weekly budget of %s credits is spent: workloads are held until the reset at %s, or until an administrator raises spec.credits", display(w.budget), f.Reset.UTC().Format(time.RFC3339))
	default:
		// No amount that grows with time: the message is written on change only.
		exhausted.Reason, exhausted.Message = doradev1.ReasonBudgetLeft, fmt.Sprintf("Part of the weekly budget of %s credits is left until %s", display(w.budget), f.Reset.UTC().Format(time.RFC3339))
	}
	meta.SetStatusCondition(conds, exhausted)

	low := metav1.Condition{Type: doradev1.CreditsLow, Status: metav1.ConditionFalse, Reason: doradev1.ReasonCreditsPlenty, ObservedGeneration: generation,
		Message: fmt.Sprintf("Less than %d%% of the weekly budget is spent", credits.LowPercent)}
	switch lowThreshold(f, w.has && !w.required) {
	case credits.VeryLowPercent:
		low.Status, low.Reason = metav1.ConditionTrue, doradev1.ReasonCreditsVeryLow
		low.Message = fmt.Sprintf("At least %d%% of the weekly budget of %s credits is spent", credits.VeryLowPercent, display(w.budget))
	case credits.LowPercent:
		low.Status, low.Reason = metav1.ConditionTrue, doradev1.ReasonCreditsLow
		low.Message = fmt.Sprintf("At least %d%% of the weekly budget of %s credits is spent", credits.LowPercent, display(w.budget))
	}
	meta.SetStatusCondition(conds, low)

	unpriced := metav1.Condition{Type: doradev1.Unpriced, Status: metav1.ConditionFalse, Reason: doradev1.ReasonAllPriced, ObservedGeneration: generation,
		Message: "Every product the user's pods hold has a price"}
	if len(w.unpriced) > 0 {
		unpriced.Status, unpriced.Reason = metav1.ConditionTrue, doradev1.ReasonProductsUnpriced
		unpriced.Message = fmt.Sprintf("No ResourceCredit prices %s: that time is charged 0; create a ResourceCredit with that product_name", strings.Join(w.unpriced, ", "))
	}
	meta.SetStatusCondition(conds, unpriced)
}

// unpricedProducts are the products of the running pods that have no price at now.
func unpricedProducts(pods []credits.PodUsage, prices credits.Prices, now time.Time) []string {
	var out []string
	for _, p := range pods {
		if p.Running(now) && prices[p.Product].At(now) == credits.Unpriced && !slices.Contains(out, p.Product) {
			out = append(out, p.Product)
		}
	}
	slices.Sort(out)
	return out
}

func ptrTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}
