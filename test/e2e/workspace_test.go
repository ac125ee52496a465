package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Deleting a Workspace deletes the namespace it owns, through the garbage collector and the
// namespace controller of the simulated cluster.
func TestDeletingAWorkspaceDeletesItsNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "e2e.delete"}}
	g.Expect(k8sClient.Create(ctx, ws)).To(Succeed())

	ns := &corev1.Namespace{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Name: "e2e-delete"}, ns)
	}).WithTimeout(20*time.Second).Should(Succeed(), "the workspace's namespace should be created")

	g.Expect(k8sClient.Delete(ctx, ws)).To(Succeed())
	g.Eventually(func() bool {
		err := k8sClient.Get(ctx, client.ObjectKey{Name: "e2e-delete"}, ns)
		return apierrors.IsNotFound(err)
	}).WithTimeout(60*time.Second).Should(BeTrue(), "the namespace should be garbage-collected with its workspace")
}

// Once a clashing namespace goes away, the workspace creates its own in its place.
func TestWorkspaceRecoversWhenTheClashingNamespaceGoes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-clash"}}
	g.Expect(k8sClient.Create(ctx, foreign)).To(Succeed())

	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: "e2e.clash"}}
	g.Expect(k8sClient.Create(ctx, ws)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, ws) })
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)).To(Succeed())
		g.Expect(meta.FindStatusCondition(ws.Status.Conditions, doradev1.WorkspaceNamespaceReady)).To(
			HaveField("Reason", doradev1.ReasonNamespaceClash))
	}).WithTimeout(20*time.Second).Should(Succeed(), "the workspace should report the clash first")

	g.Expect(k8sClient.Delete(ctx, foreign)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(ws), ws)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(ws.Status.Conditions, doradev1.ConditionReady)).To(BeTrue())
		g.Expect(ws.Status.Namespace).To(Equal("e2e-clash"))
		ns := &corev1.Namespace{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "e2e-clash"}, ns)).To(Succeed())
		g.Expect(metav1.IsControlledBy(ns, ws)).To(BeTrue())
	}).WithTimeout(60*time.Second).Should(Succeed(), "the workspace should take the name once the foreign namespace is gone")
}
