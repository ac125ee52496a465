package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func createWorkspace(t *testing.T, name string) *doradev1.Workspace {
	t.Helper()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), ws) })
	return ws
}

// A Workspace gets a namespace named after it with '.' turned into '-', labelled with the
// workspace and owned by it, and says so in its status.
func TestWorkspaceCreatesItsNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ws := createWorkspace(t, "alice.example")

	ns := &corev1.Namespace{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Name: "alice-example"}, ns)
	}).WithTimeout(10*time.Second).Should(Succeed(), "the workspace's namespace should be created")
	g.Expect(ns.Labels).To(HaveKeyWithValue(doradev1.LabelWorkspace, "alice.example"))
	g.Expect(metav1.IsControlledBy(ns, ws)).To(BeTrue(), "the namespace should be owned by the workspace: %v", ns.OwnerReferences)
	g.Expect(*ns.OwnerReferences[0].BlockOwnerDeletion).To(BeTrue())

	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)).To(Succeed())
		g.Expect(ws.Status.Namespace).To(Equal("alice-example"))
		g.Expect(ws.Status.ObservedGeneration).To(Equal(ws.Generation))
		ready := meta.FindStatusCondition(ws.Status.Conditions, doradev1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ready.Reason).To(Equal(doradev1.ReasonNamespaceOwned))
	}).WithTimeout(10*time.Second).Should(Succeed(), "the workspace should report its namespace Ready")

	// Settled: the manager writes nothing more.
	settled := ws.ResourceVersion
	g.Consistently(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)
		return ws.ResourceVersion
	}).WithTimeout(3*time.Second).Should(Equal(settled), "a settled workspace must not be written again")
}

// A namespace that exists and is not the workspace's is never taken over: the workspace
// reports the clash and leaves the namespace as it was.
func TestWorkspaceNeverTakesOverAForeignNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-beta", Labels: map[string]string{"owner": "someone-else"}}}
	g.Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, foreign) })

	ws := createWorkspace(t, "team.beta")
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)).To(Succeed())
		cond := meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceNamespaceReady)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(cond.Reason).To(Equal(doradev1.ReasonNamespaceClash))
		g.Expect(cond.Message).To(ContainSubstring("namespace team-beta already exists and does not belong to this workspace"))
		g.Expect(meta.IsStatusConditionFalse(ws.Status.Conditions, doradev1.ConditionReady)).To(BeTrue())
	}).WithTimeout(10*time.Second).Should(Succeed(), "the workspace should report the namespace clash")
	g.Expect(ws.Status.Namespace).To(BeEmpty())

	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), foreign)).To(Succeed())
	g.Expect(foreign.OwnerReferences).To(BeEmpty(), "the foreign namespace must not be adopted")
	g.Expect(foreign.Labels).To(Equal(map[string]string{"owner": "someone-else", corev1.LabelMetadataName: "team-beta"}))

	events := &corev1.EventList{}
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.List(ctx, events, client.MatchingFields{"involvedObject.name": "team.beta"})).To(Succeed())
		reasons := []string{}
		for _, e := range events.Items {
			reasons = append(reasons, e.Reason)
		}
		g.Expect(reasons).To(ContainElement(doradev1.ReasonNamespaceClash))
	}).WithTimeout(10*time.Second).Should(Succeed(), "a warning event should tell the user about the clash")
}

// cloneFrom is given when a workspace is created, names a workspace that exists, and is
// fixed from then on: a clone never happens into an existing workspace.
func TestWorkspaceCloneFromIsCheckedAtAdmission(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	create := func(name, from string) (*doradev1.Workspace, error) {
		ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: doradev1.WorkspaceSpec{CloneFrom: from}}
		err := k8sClient.Create(ctx, ws)
		if err == nil {
			t.Cleanup(func() { _ = k8sClient.Delete(ctx, ws) })
		}
		return ws, err
	}

	_, err := create("clone.of.nothing", "no.such.workspace")
	g.Expect(err).To(MatchError(And(ContainSubstring("spec.cloneFrom"), ContainSubstring(`"no.such.workspace" does not exist`))),
		"a clone of a missing workspace is refused, naming the field and the name")

	_, err = create("clone.of.itself", "clone.of.itself")
	g.Expect(err).To(MatchError(ContainSubstring("spec.cloneFrom must name another workspace")))

	_, err = create("clone.source", "")
	g.Expect(err).NotTo(HaveOccurred())
	existing, err := create("clone.existing", "")
	g.Expect(err).NotTo(HaveOccurred())
	clone, err := create("clone.target", "clone.source")
	g.Expect(err).NotTo(HaveOccurred())

	// Merge patches: the manager adds its finalizer meanwhile, so an update could conflict.
	setCloneFrom := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"cloneFrom":"clone.existing"}}`))
	g.Expect(k8sClient.Patch(ctx, clone, setCloneFrom)).To(MatchError(ContainSubstring("spec.cloneFrom and spec.copyData can only be given when a workspace is created")))

	setCloneFrom = client.RawPatch(types.MergePatchType, []byte(`{"spec":{"cloneFrom":"clone.source","copyData":true}}`))
	g.Expect(k8sClient.Patch(ctx, existing, setCloneFrom)).To(MatchError(ContainSubstring("to clone into a new workspace, create one with spec.cloneFrom")),
		"cloning into an existing workspace is refused")
}

// A document written for another zone is refused by this zone's manager, naming both zones;
// one for this zone, or for any zone, is taken.
func TestDocumentsForAnotherZoneAreRefused(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	zoned := func(name, zone string) *doradev1.Storage {
		return &doradev1.Storage{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{doradev1.AnnotationZone: zone}},
			Spec:       doradev1.StorageSpec{Endpoint: "10.10.10.1", Mountpath: "/export"},
		}
	}
	err := k8sClient.Create(ctx, zoned("zone.other", "dc-rov-02"))
	g.Expect(err).To(MatchError(And(ContainSubstring(`"dc-rov-02"`), ContainSubstring(`"dc-rov-01"`))),
		"the refusal should name the document's zone and this cluster's")
	for _, zone := range []string{"dc-rov-01", doradev1.All} {
		st := zoned("zone."+strings.ToLower(zone), zone)
		g.Expect(k8sClient.Create(ctx, st)).To(Succeed(), "a document for zone %s belongs here", zone)
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, st) })
	}
}
