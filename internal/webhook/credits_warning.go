package webhook

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// lowCreditsPercent is below how much of the weekly budget left a new GPU workload is
// warned about.
const lowCreditsPercent = 10

// creditWarnings are the admission Warnings for a new GPU workload of a user whose credits
// in zone are spent (it is accepted and waits, held, until the reset or a raised budget) or
// nearly so. A workload with no owner, no GPUs, or an owner with no budget here is not
// warned about; nor is any when the UserCredit cannot be read (a warning never refuses).
func creditWarnings(ctx context.Context, reader client.Reader, zone string, wl *doradev1.Workload) []string {
	owner := wl.Annotations[doradev1.AnnotationOwner]
	if owner == "" || reader == nil || podspec.GPUCount(wl) == 0 {
		return nil
	}
	uc := &doradev1.UserCredit{}
	if err := reader.Get(ctx, client.ObjectKey{Name: owner}, uc); err != nil {
		if !apierrors.IsNotFound(err) {
			return []string{fmt.Sprintf("the credits of %s could not be read (%v); the workload is accepted", owner, err)}
		}
		return nil
	}
	return warningsFor(owner, zone, uc.Status.Zones)
}

// warningsFor is the decision of creditWarnings, given the user's spending per zone.
func warningsFor(owner, zone string, zones []doradev1.ZoneCredits) []string {
	for _, z := range zones {
		if z.Zone != zone || z.Weekly == "" {
			continue
		}
		reset := "the weekly reset"
		if z.NextReset != nil {
			reset = z.NextReset.UTC().Format(time.RFC3339)
		}
		if z.Exhausted {
			return []string{fmt.Sprintf("the credits of %s in zone %s are spent for this week: this workload is accepted and waits, held, until %s or until an administrator raises the budget",
				owner, zone, reset)}
		}
		weekly, err1 := credits.ParseAmount(z.Weekly)
		remaining, err2 := credits.ParseAmount(z.Remaining)
		if err1 != nil || err2 != nil || weekly.Sign() <= 0 {
			return nil
		}
		// remaining/weekly < 10%  <=>  remaining*100 < weekly*10
		if remaining.MulInt(100).Cmp(weekly.MulInt(lowCreditsPercent)) < 0 {
			return []string{fmt.Sprintf("only %s of the %s weekly credits of %s are left in zone %s, until %s: this workload may be held when they run out",
				remaining.Format(2), weekly.Format(2), owner, zone, reset)}
		}
	}
	return nil
}
