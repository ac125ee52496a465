// Package statuspatch writes the status of the objects the manager reconciles: once per
// reconcile, only when it changed, as a merge patch. A merge patch, not an update: statuses
// are computed whole from what exists, so a cache a moment behind the manager's own last
// write costs no conflict and no retry.
package statuspatch

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Write patches obj's status to what it is now, from original (a copy of obj taken after
// its last metadata write and before its status was changed), and reports whether it
// wrote. Nothing is sent when the two are the same. An object that is gone is not an
// error: there is no status left to write.
func Write(ctx context.Context, c client.Client, original, obj client.Object) (bool, error) {
	data, err := client.MergeFrom(original).Data(obj)
	if err != nil {
		return false, fmt.Errorf("computing the status patch of %s: %w", obj.GetName(), err)
	}
	if string(data) == "{}" {
		return false, nil
	}
	if err := c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, data)); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("writing the status of %s: %w", obj.GetName(), err)
	}
	return true, nil
}

// Update copies obj, lets change set its status, and writes the status when it changed
// (see Write).
func Update[T client.Object](ctx context.Context, c client.Client, obj T, change func()) (bool, error) {
	original, ok := obj.DeepCopyObject().(T)
	if !ok {
		return false, fmt.Errorf("copying %s: DeepCopyObject returned another type", obj.GetName())
	}
	change()
	return Write(ctx, c, original, obj)
}

// UpdateLocked is Update for a status that is not computed whole from what exists but
// carries what was seen before (a ledger of closed pods): the patch holds obj's
// resourceVersion, so a write from a cache a moment behind the last one fails with a
// Conflict instead of dropping what that write added. Nothing is sent when nothing changed.
func UpdateLocked[T client.Object](ctx context.Context, c client.Client, obj T, change func()) (bool, error) {
	original, ok := obj.DeepCopyObject().(T)
	if !ok {
		return false, fmt.Errorf("copying %s: DeepCopyObject returned another type", obj.GetName())
	}
	change()
	patch := client.MergeFromWithOptions(original, client.MergeFromWithOptimisticLock{})
	unlocked, err := client.MergeFrom(original).Data(obj)
	if err != nil {
		return false, fmt.Errorf("computing the status patch of %s: %w", obj.GetName(), err)
	}
	if string(unlocked) == "{}" {
		return false, nil
	}
	if err := c.Status().Patch(ctx, obj, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("writing the status of %s: %w", obj.GetName(), err)
	}
	return true, nil
}
