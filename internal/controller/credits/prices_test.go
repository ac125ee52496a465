package credits

import (
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
	if diff := cmp.Diff([]string{"new"}, duplicates); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
}
