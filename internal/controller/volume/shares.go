package volume

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/access"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

// share is a claim another workspace made for the volume, and what the policy says of it.
type share struct {
	claim    *corev1.PersistentVolumeClaim
	decision access.Decision
	// err: the policy could not answer. Undecided is not denied: the share stays until it
	// answers.
	err error
}

// sharePlan is what to do with the volume's shares.
type sharePlan struct {
	// grant are the bindings to make sure of, one per allowed claim.
	grant []grant
	// revoke are PersistentVolumes of shares whose claim is gone or no longer allowed.
	revoke []*corev1.PersistentVolume
	// errs are the policy's failures to answer.
	errs []error
}

// grant is one claim's PersistentVolume, read-only unless the policy allows writes.
type grant struct {
	claim   *corev1.PersistentVolumeClaim
	binding nfs.Binding
}

// planShares decides, from the claims other workspaces made for vol's directory (with the
// policy's answers) and the PersistentVolumes made for it so far, which to grant and which
// to revoke. The volume's own claim and claims on their way out are no shares.
func planShares(vol *doradev1.Volume, dir nfs.Directory, shares []share, pvs []*corev1.PersistentVolume) sharePlan {
	self := client.ObjectKeyFromObject(vol)
	var plan sharePlan
	wanted := map[string]bool{}
	for _, s := range shares {
		if s.claim.Namespace == vol.Namespace || s.claim.DeletionTimestamp != nil {
			continue
		}
		b := nfs.Binding{Source: self, Claim: client.ObjectKeyFromObject(s.claim), Dir: dir}
		switch {
		case s.err != nil:
			wanted[b.PersistentVolumeName()] = true
			plan.errs = append(plan.errs, s.err)
		case s.decision.Allowed:
			b.ReadOnly = !s.decision.Write
			wanted[b.PersistentVolumeName()] = true
			plan.grant = append(plan.grant, grant{claim: s.claim, binding: b})
		}
	}
	for _, pv := range pvs {
		if ref := pv.Spec.ClaimRef; !wanted[pv.Name] && ref != nil && ref.Namespace != vol.Namespace {
			plan.revoke = append(plan.revoke, pv)
		}
	}
	return plan
}

// syncShares grants the claims other workspaces made for this volume: each gets its own
// PersistentVolume on the same directory. PersistentVolumes whose claim is gone, or no
// longer allowed, go. It reports whether a PersistentVolume a share needs is someone
// else's (told by an event on the volume).
func (r *Reconciler) syncShares(ctx context.Context, vol *doradev1.Volume, dir nfs.Directory) (clashed bool, err error) {
	self := client.ObjectKeyFromObject(vol)
	claims := &corev1.PersistentVolumeClaimList{}
	if err := r.client.List(ctx, claims, client.MatchingFields{indexes.ClaimSourceVolume: nfs.SourceKey(self)}); err != nil {
		return false, fmt.Errorf("listing claims for volume %s: %w", self, err)
	}
	shares := make([]share, 0, len(claims.Items))
	for i := range claims.Items {
		claim := &claims.Items[i]
		if claim.Namespace == vol.Namespace || claim.DeletionTimestamp != nil {
			continue
		}
		decision, err := r.opts.Policy.MountVolume(ctx, claim.Namespace, vol)
		shares = append(shares, share{claim: claim, decision: decision, err: err})
	}
	pvs, err := r.persistentVolumesOf(ctx, vol)
	if err != nil {
		return false, err
	}
	plan := planShares(vol, dir, shares, pvs)
	errs := plan.errs
	for _, g := range plan.grant {
		clash, err := r.ensurePersistentVolume(ctx, g.binding)
		switch {
		case err != nil:
			errs = append(errs, err)
		case clash != "":
			clashed = true
			r.recorder.Eventf(vol, g.claim, corev1.EventTypeWarning, doradev1.ReasonNameClash, "ShareVolume", "%s", clash)
		}
	}
	for _, pv := range plan.revoke {
		if err := r.client.Delete(ctx, pv); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting PersistentVolume %s: %w", pv.Name, err))
		}
	}
	return clashed, errors.Join(errs...)
}
