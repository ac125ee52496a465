package credits

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

// maxPriceHistory is how many price changes a ResourceCredit's status keeps (its MaxItems).
const maxPriceHistory = 64

// observePrice is a ResourceCredit's price history once the price it asks now is recorded:
// the first observation counts from the object's creation (it priced the product since),
// a later change from now, when the manager saw it. ok is false when nothing changed.
func observePrice(rc *doradev1.ResourceCredit, now time.Time) (history []doradev1.PriceObservation, ok bool, err error) {
	perHour, err := credits.Canonical(rc.Spec.Credit.Per.Hour)
	if err != nil {
		return nil, false, fmt.Errorf("spec.credit.per.hour of %s: %w", rc.Name, err)
	}
	history = rc.Status.PriceHistory
	if n := len(history); n > 0 && history[n-1].PerHour == perHour {
		return history, false, nil
	}
	since := rc.CreationTimestamp.Time
	if len(history) > 0 || since.IsZero() {
		since = now
	}
	history = append(slices.Clone(history), doradev1.PriceObservation{Since: metav1.NewTime(since.Truncate(time.Second)), PerHour: perHour})
	if len(history) > maxPriceHistory {
		history = history[len(history)-maxPriceHistory:]
	}
	return history, true, nil
}

// pricesOf are the price histories of the products the ResourceCredits price. Two
// ResourceCredits of one product: the oldest prices it (then by name, on a tie), and each
// other is returned in duplicates, mapped to the name of the one in force, to be reported.
func pricesOf(rcs []doradev1.ResourceCredit) (prices credits.Prices, duplicates map[string]string, err error) {
	sorted := slices.Clone(rcs)
	slices.SortFunc(sorted, func(a, b doradev1.ResourceCredit) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	prices = credits.Prices{}
	duplicates = map[string]string{}
	inForce := map[string]string{}
	for _, rc := range sorted {
		product := rc.Spec.ProductName
		if winner, seen := inForce[product]; seen {
			duplicates[rc.Name] = winner
			continue
		}
		periods := make([]credits.PricePeriod, 0, len(rc.Status.PriceHistory))
		for _, o := range rc.Status.PriceHistory {
			periods = append(periods, credits.PricePeriod{Since: o.Since.Time, PerHour: o.PerHour})
		}
		h, err := credits.NewPriceHistory(periods...)
		if err != nil {
			return nil, nil, fmt.Errorf("price history of %s: %w", rc.Name, err)
		}
		inForce[product] = rc.Name
		prices[product] = h
	}
	return prices, duplicates, nil
}

// readyCondition says whether the ResourceCredit prices its product: False when its price
// cannot be read (priceErr) or when an older one prices the same product (inForce names it).
func readyCondition(rc *doradev1.ResourceCredit, priceErr error, inForce string) metav1.Condition {
	c := metav1.Condition{Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonPricing,
		ObservedGeneration: rc.Generation,
		Message:            fmt.Sprintf("%s is priced at %s credits per GPU-hour (or core-hour)", rc.Spec.ProductName, rc.Spec.Credit.Per.Hour)}
	switch {
	case priceErr != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, doradev1.ReasonInvalidPrice, priceErr.Error()
	case inForce != "":
		c.Status, c.Reason = metav1.ConditionFalse, doradev1.ReasonDuplicateProduct
		c.Message = fmt.Sprintf("ResourceCredit %s, the older, already prices %q and is the one in force: this one is ignored; delete one of the two", inForce, rc.Spec.ProductName)
	}
	return c
}
