package statuspatch_test

import (
	"context"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
)

// A status that did not change is not written; one that did is written once, as a patch
// of the status alone; an object that is gone is no error.
func TestUpdateWritesOnlyAChangedStatus(t *testing.T) {
	ctx := context.Background()
	st := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "nfs"}, Spec: doradev1.StorageSpec{Endpoint: "10.0.0.1", Mountpath: "/x"}}
	var patches atomic.Int32
	c := testclient.NewBuilder().WithObjects(st).WithInterceptorFuncs(interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			patches.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	}).Build()

	got := &doradev1.Storage{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(st), got); err != nil {
		t.Fatal(err)
	}
	wrote, err := statuspatch.Update(ctx, c, got, func() { got.Status.VolumeCount = 0 })
	if err != nil || wrote || patches.Load() != 0 {
		t.Fatalf("an unchanged status: wrote=%v err=%v patches=%d; want nothing sent", wrote, err, patches.Load())
	}

	wrote, err = statuspatch.Update(ctx, c, got, func() { got.Status.VolumeCount = 3 })
	if err != nil || !wrote || patches.Load() != 1 {
		t.Fatalf("a changed status: wrote=%v err=%v patches=%d; want one patch", wrote, err, patches.Load())
	}
	stored := &doradev1.Storage{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(st), stored); err != nil {
		t.Fatal(err)
	}
	if stored.Status.VolumeCount != 3 {
		t.Errorf("stored volumeCount = %d, want 3", stored.Status.VolumeCount)
	}

	if err := c.Delete(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if wrote, err := statuspatch.Update(ctx, c, got, func() { got.Status.VolumeCount = 4 }); err != nil || wrote {
		t.Errorf("a gone object: wrote=%v err=%v; want no write and no error", wrote, err)
	}
}

// A locked write from a stale read fails with a Conflict and changes nothing: what the
// write in between added stays.
func TestUpdateLockedRefusesAStaleRead(t *testing.T) {
	ctx := context.Background()
	st := &doradev1.Storage{ObjectMeta: metav1.ObjectMeta{Name: "nfs"}, Spec: doradev1.StorageSpec{Endpoint: "10.0.0.1", Mountpath: "/x"}}
	c := testclient.NewBuilder().WithObjects(st).Build()
	stale, fresh := &doradev1.Storage{}, &doradev1.Storage{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(st), stale); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(st), fresh); err != nil {
		t.Fatal(err)
	}
	if wrote, err := statuspatch.UpdateLocked(ctx, c, fresh, func() { fresh.Status.VolumeCount = 3 }); err != nil || !wrote {
		t.Fatalf("a fresh read: wrote=%v err=%v; want a write", wrote, err)
	}
	_, err := statuspatch.UpdateLocked(ctx, c, stale, func() { stale.Status.VolumeCount = 1 })
	if !apierrors.IsConflict(err) {
		t.Fatalf("a stale read: err=%v, want a Conflict", err)
	}
	stored := &doradev1.Storage{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(st), stored); err != nil {
		t.Fatal(err)
	}
	if stored.Status.VolumeCount != 3 {
		t.Errorf("stored volume count %d, want the fresh write's 3 kept", stored.Status.VolumeCount)
	}
	if wrote, err := statuspatch.UpdateLocked(ctx, c, stored, func() {}); err != nil || wrote {
		t.Errorf("nothing changed: wrote=%v err=%v; want nothing sent", wrote, err)
	}
}
