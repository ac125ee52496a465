package indexes

import (
	"context"
	"fmt"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StoreLookup reads one index of an informer's store directly: the objects it returns are
// the cache's own, to be read only. A typed List, even one told not to deep-copy, fills
// its Items with a copy of each object's top level (a corev1.Pod is 1.2 KB before anything
// it points to: forty thousand pods are 50 MB a list); this returns pointers.
type StoreLookup func(value string) ([]any, error)

// NewStoreLookup adds an index named name to the informer of obj's kind in informers and
// returns what reads it. It returns nil, and no error, when that informer does not expose
// its store: the caller then lists a field index through a client instead.
func NewStoreLookup(ctx context.Context, informers cache.Informers, obj client.Object, name string, extract client.IndexerFunc) (StoreLookup, error) {
	informer, err := informers.GetInformer(ctx, obj)
	if err != nil {
		return nil, fmt.Errorf("getting the informer of %T for index %s: %w", obj, name, err)
	}
	withStore, ok := informer.(interface{ GetIndexer() toolscache.Indexer })
	if !ok {
		return nil, nil
	}
	err = informer.AddIndexers(toolscache.Indexers{name: func(o any) ([]string, error) {
		if co, ok := o.(client.Object); ok {
			return extract(co), nil
		}
		return nil, nil
	}})
	if err != nil {
		return nil, fmt.Errorf("adding index %s: %w", name, err)
	}
	store := withStore.GetIndexer()
	return func(value string) ([]any, error) { return store.ByIndex(name, value) }, nil
}
