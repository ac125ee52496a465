package credits

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func priceOf(name, product string, perHour doradev1.Amount, created time.Time, seen ...doradev1.PriceObservation) *doradev1.ResourceCredit {
	return &doradev1.ResourceCredit{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec:       doradev1.ResourceCreditSpec{ProductName: product, Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: perHour}}},
		Status:     doradev1.ResourceCreditStatus{PriceHistory: seen},
	}
}

func seen(at time.Time, perHour doradev1.Amount) doradev1.PriceObservation {
	return doradev1.PriceObservation{Since: metav1.NewTime(at), PerHour: perHour}
}

func TestObservePrice(t *testing.T) {
	now := t0.Add(time.Hour)
	cases := map[string]struct {
		rc      *doradev1.ResourceCredit
		want    []doradev1.PriceObservation
		changed bool
	}{
		"the first price counts from the object's creation": {
			rc: priceOf("a", "A100", "2.50", t0), changed: true,
			want: []doradev1.PriceObservation{seen(t0, "2.5")},
		},
		"an unchanged price is not written again": {
			rc:   priceOf("a", "A100", "2.5", t0, seen(t0, "2.5")),
			want: []doradev1.PriceObservation{seen(t0, "2.5")},
		},
		"a new price counts from when it was seen": {
			rc: priceOf("a", "A100", "3", t0, seen(t0, "2.5")), changed: true,
			want: []doradev1.PriceObservation{seen(t0, "2.5"), seen(now, "3")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, changed, err := observePrice(tc.rc, now)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPricesOf(t *testing.T) {
	older := priceOf("old", "A100", "2", t0, seen(t0, "2"))
	newer := priceOf("new", "A100", "9", t0.Add(time.Minute), seen(t0.Add(time.Minute), "9"))
	other := priceOf("v", "V100", "1", t0, seen(t0, "1"), seen(t0.Add(time.Hour), "1.5"))
	prices, duplicates, err := pricesOf([]doradev1.ResourceCredit{*newer, *other, *older})
	if err != nil {
		t.Fatal(err)
	}
	if got := prices["A100"].At(t0.Add(time.Hour)); got != "2" {
		t.Errorf("A100 = %q, want the oldest ResourceCredit's 2", got)
	}
	if got := prices["V100"].At(t0.Add(2 * time.Hour)); got != "1.5" {
		t.Errorf("V100 = %q, want 1.5 after the change", got)
	}
	if diff := cmp.Diff(map[string]string{"new": "old"}, duplicates); diff != "" {
		t.Errorf("duplicates, mapped to the one in force (-want +got):\n%s", diff)
	}
}

// A ResourceCredit says whether it is the one pricing its product, and if not, which is.
func TestReadyCondition(t *testing.T) {
	rc := priceOf("new", "A100", "9", t0, seen(t0, "9"))
	cases := []struct {
		name            string
		priceErr        error
		inForce         string
		status          metav1.ConditionStatus
		reason, message string
	}{
		{"in force", nil, "", metav1.ConditionTrue, doradev1.ReasonPricing, "A100 is priced at 9 credits per GPU-hour"},
		{"an older one prices the product", nil, "old", metav1.ConditionFalse, doradev1.ReasonDuplicateProduct, `ResourceCredit old, the older, already prices "A100"`},
		{"unreadable price", errors.New("spec.credit.per.hour of new: not a number"), "", metav1.ConditionFalse, doradev1.ReasonInvalidPrice, "spec.credit.per.hour"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := readyCondition(rc, tc.priceErr, tc.inForce)
			if c.Status != tc.status || c.Reason != tc.reason || !strings.Contains(c.Message, tc.message) {
				t.Errorf("got %s/%s %q, want %s/%s containing %q", c.Status, c.Reason, c.Message, tc.status, tc.reason, tc.message)
			}
		})
	}
}
