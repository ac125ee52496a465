package predicates

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestSpecOrDeletionIgnoresStatusWrites(t *testing.T) {
	base := func() *doradev1.Volume {
		return &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Name: "v", Generation: 1, Finalizers: []string{doradev1.FinalizerVolume}}}
	}
	statusOnly := base()
	statusOnly.Status.Path = "/x"
	spec := base()
	spec.Generation = 2
	deleting := base()
	deleting.DeletionTimestamp = &metav1.Time{}
	released := base()
	released.Finalizers = nil

	cases := []struct {
		name string
		new  *doradev1.Volume
		want bool
	}{
		{"a status write", statusOnly, false},
		{"a spec change", spec, true},
		{"the start of a deletion", deleting, true},
		{"a finalizer removed", released, true},
	}
	for _, c := range cases {
		if got := (SpecOrDeletion{}).Update(event.UpdateEvent{ObjectOld: base(), ObjectNew: c.new}); got != c.want {
			t.Errorf("%s: Update = %v, want %v", c.name, got, c.want)
		}
	}
}
