package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

// A new GPU workload of a user whose credits are spent is accepted with a warning saying it
// waits and until when; one of a user with less than 10% left is warned too; nothing else is.
func TestCreditWarnings(t *testing.T) {
	reset := metav1.NewTime(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	zone := func(weekly, remaining doradev1.Amount, exhausted bool) []doradev1.ZoneCredits {
		return []doradev1.ZoneCredits{{Zone: "dc-rov-01", Weekly: weekly, Remaining: remaining, Exhausted: exhausted, NextReset: &reset}}
	}
	credit := func(user string, zones []doradev1.ZoneCredits) *doradev1.UserCredit {
		return &doradev1.UserCredit{ObjectMeta: metav1.ObjectMeta{Name: user}, Status: doradev1.UserCreditStatus{Zones: zones}}
	}
	reader := testclient.Objects(
		credit("spent", zone("500", "0", true)),
		credit("low", zone("500", "49.5", false)),
		credit("plenty", zone("500", "50", false)),
		credit("elsewhere", []doradev1.ZoneCredits{{Zone: "dc-test-01", Weekly: "100", Remaining: "0", Exhausted: true}}),
	)
	gpuWorkload := func(owner string, gpus int32) *doradev1.Workload {
		wl := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Name: "train", Namespace: "ns"}}
		if owner != "" {
			wl.Annotations = map[string]string{doradev1.AnnotationOwner: owner}
		}
		if gpus > 0 {
			wl.Spec.Selectors.GPU = &doradev1.GPUSelector{Count: ptr.To(intstr.FromInt32(gpus))}
		}
		return wl
	}
	cases := []struct {
		name string
		wl   *doradev1.Workload
		says []string // nil: no warning
	}{
		{"spent: accepted, waits until the reset", gpuWorkload("spent", 2), []string{"credits of spent in zone dc-rov-01 are spent", "waits, held, until 2026-12-06T00:00:00Z"}},
		{"under 10% left", gpuWorkload("low", 2), []string{"only 49.50 of the 500.00 weekly credits of low are left"}},
		{"10% left exactly: no warning", gpuWorkload("plenty", 2), nil},
		{"spent elsewhere only", gpuWorkload("elsewhere", 2), nil},
		{"no GPUs: free", gpuWorkload("spent", 0), nil},
		{"unowned", gpuWorkload("", 2), nil},
		{"no UserCredit yet", gpuWorkload("newcomer", 2), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := creditWarnings(context.Background(), reader, "dc-rov-01", tc.wl)
			if (len(got) > 0) != (tc.says != nil) {
				t.Fatalf("warnings %q, want %v", got, tc.says)
			}
			for _, s := range tc.says {
				if !strings.Contains(got[0], s) {
					t.Errorf("warning %q does not say %q", got[0], s)
				}
			}
		})
	}
}
