package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

// gitopsManager is the field manager of a GitOps tool's server-side apply (Argo CD's).
const gitopsManager = "argocd-controller"

// A GitOps tool (Argo CD, Flux) applies every object server-side on each sync and never
// forces. Applied once and settled, every sample applied again as it is changes nothing:
// the API server would store no new version (no defaulting drift: what the API server
// and the webhooks add is the same every time), and no field of the applier's is one the
// manager writes too (the apply needs no force: no conflict).
func TestReapplyingTheSamplesChangesNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	root, err := simcluster.RepoRoot()
	g.Expect(err).NotTo(HaveOccurred())
	files, err := filepath.Glob(filepath.Join(root, "config", "samples", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var objects []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		objs, err := simcluster.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		objects = append(objects, objs...)
	}
	g.Expect(len(objects)).To(BeNumerically(">", 10), "the samples are read")

	apply := func(obj *unstructured.Unstructured, opts ...client.ApplyOption) (*unstructured.Unstructured, error) {
		out := obj.DeepCopy()
		err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(out), append([]client.ApplyOption{client.FieldOwner(gitopsManager)}, opts...)...)
		return out, err
	}
	key := func(o *unstructured.Unstructured) string {
		return fmt.Sprintf("%s %s", o.GetKind(), client.ObjectKeyFromObject(o))
	}
	// Some samples name objects the manager made before (the Zone, a Dora Node): those are
	// given back as they were at the end (the applier's fields dropped), the rest deleted,
	// so that the other tests find the cluster as they expect it.
	existed := map[string]bool{}
	for _, obj := range objects {
		probe := &unstructured.Unstructured{}
		probe.SetGroupVersionKind(obj.GroupVersionKind())
		existed[key(obj)] = k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), probe) == nil
	}
	t.Cleanup(func() {
		for _, obj := range objects {
			if !existed[key(obj)] {
				_ = k8sClient.Delete(ctx, obj.DeepCopy())
				continue
			}
			bare := &unstructured.Unstructured{}
			bare.SetGroupVersionKind(obj.GroupVersionKind())
			bare.SetName(obj.GetName())
			bare.SetNamespace(obj.GetNamespace())
			if err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(bare), client.FieldOwner(gitopsManager), client.ForceOwnership); err != nil {
				t.Errorf("giving %s back: %v", key(obj), err)
			}
		}
	})
	// Cluster-scoped objects first: the workspaces make the namespaces of the rest.
	for _, pass := range []bool{false, true} {
		for _, obj := range objects {
			if (obj.GetNamespace() != "") != pass {
				continue
			}
			if ns := obj.GetNamespace(); ns != "" {
				g.Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}) }).
					WithTimeout(30*time.Second).Should(Succeed(), "the namespace of %s is made by its workspace", key(obj))
			}
			_, err := apply(obj)
			g.Expect(err).NotTo(HaveOccurred(), "the first apply of %s", key(obj))
		}
	}

	// Settled: the manager has done what the objects ask (workspaces, volumes, pods), so
	// that a new version now could only come from the apply.
	live := func(obj *unstructured.Unstructured) *unstructured.Unstructured {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(obj.GroupVersionKind())
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got)).To(Succeed())
		return got
	}
	for _, obj := range objects {
		g.Eventually(func(g Gomega) {
			// A dry run of the apply returns what the API server would store (webhooks and
			// defaults included): the same object, status aside, means nothing would change.
			before := live(obj)
			would, err := apply(obj, client.DryRunAll)
			g.Expect(err).NotTo(HaveOccurred(), "a dry-run apply of %s without force", key(obj))
			g.Expect(stored(would)).To(Equal(stored(before)),
				"re-applying %s would change it: the apply, the defaults or the webhooks make it different each time", key(obj))
		}).WithTimeout(60*time.Second).WithPolling(2*time.Second).Should(Succeed(), "re-applying %s changes nothing", key(obj))
	}

	// And for real: no conflict with the manager's fields, no new version but for a status
	// the manager happens to write at the same moment.
	for _, obj := range objects {
		before := live(obj)
		after, err := apply(obj)
		g.Expect(err).NotTo(HaveOccurred(), "re-applying %s without force: a field the manager owns too", key(obj))
		if after.GetResourceVersion() != before.GetResourceVersion() {
			g.Expect(after.Object["spec"]).To(Equal(before.Object["spec"]), "re-applying %s changed its spec", key(obj))
			g.Expect(after.GetAnnotations()).To(Equal(before.GetAnnotations()), "re-applying %s changed its annotations", key(obj))
			g.Expect(after.GetLabels()).To(Equal(before.GetLabels()), "re-applying %s changed its labels", key(obj))
			g.Expect(after.GetFinalizers()).To(Equal(before.GetFinalizers()), "re-applying %s changed its finalizers", key(obj))
		}
	}
}

// stored is what an apply may change of an object: all of it but its status (the
// manager's, which may move between two reads) and its managedFields, the API server's
// bookkeeping of who set what (an object applied with no field of its own, such as a
// Workspace with no spec, has none until another apply records the others'). A field fight
// shows as a conflict, which the apply without force below would meet.
func stored(o *unstructured.Unstructured) map[string]any {
	c := o.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "status")
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	return c.Object
}
