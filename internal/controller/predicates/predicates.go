// Package predicates holds the event filters the controllers share.
package predicates

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// SpecOrDeletion lets through creations, deletions, and updates that change the spec (the
// generation), start a deletion or change the finalizers; not status writes, which the
// controllers make themselves. Creations, deletions and generic events pass through the
// embedded predicate.Funcs, which lets everything through.
type SpecOrDeletion struct{ predicate.Funcs }

// Update implements predicate.Predicate.
func (SpecOrDeletion) Update(e event.UpdateEvent) bool {
	return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
		(e.ObjectOld.GetDeletionTimestamp() == nil) != (e.ObjectNew.GetDeletionTimestamp() == nil) ||
		len(e.ObjectOld.GetFinalizers()) != len(e.ObjectNew.GetFinalizers())
}
